"""Training data built reproducibly: procedural landscapes, clip-art and photos with
their line art, attribution manifests and the dataset builders (``ganpaint data build``).

Pure Python + numpy + Pillow (cairosvg for clip-art); imports only ganpaint.core.
"""
