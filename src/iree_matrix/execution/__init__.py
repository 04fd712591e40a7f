"""Executing a plan: the executor (order, parallelism, reuse, resume), the same on a Dask cluster,
progress, the Pi Zero session (`armv6-smoke`), and paired A/B timing of two modules."""
