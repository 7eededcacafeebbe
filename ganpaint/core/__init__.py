"""ganpaint.core"""
