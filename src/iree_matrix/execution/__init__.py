"""Executing a plan: the executor (order, parallelism, reuse, resume), the same on a Dask cluster,
progress, run bundles, and paired A/B timing of two modules."""
