"""Models: the store, model cards, safe readers of every checkpoint format, the architecture registry (our layouts and spandrel's), the catalogue and its downloads."""
