"""ganpaint.engine: devices, background jobs, the tool runner, model files (torch allowed, Qt never).

Modules are imported explicitly (``from ganpaint.engine.jobs import JobQueue``); this
package imports nothing itself, so ``import ganpaint.engine`` stays cheap.
"""
