"""ganpaint.qt"""
