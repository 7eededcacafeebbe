"""Inference: devices, backends (eager, compiled, ONNX/OpenVINO), the memory budget, tiling and running image-to-image generators on pictures."""
