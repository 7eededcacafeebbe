"""ganpaint.nn"""
