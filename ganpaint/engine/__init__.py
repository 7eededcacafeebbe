"""ganpaint.engine"""
