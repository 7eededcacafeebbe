"""ganpaint.plugins"""
