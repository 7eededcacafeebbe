"""ganpaint.testing"""
