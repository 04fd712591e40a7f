"""Running a plan: the executor (order, parallelism, reuse, resume), the same on a Dask cluster,
progress, the armv6 smoke sequence's tables, and paired A/B timing of two modules."""
