"""ganpaint.train"""
