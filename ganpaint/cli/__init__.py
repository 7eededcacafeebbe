"""ganpaint.cli"""
