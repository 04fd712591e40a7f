"""The matrix: matrix files and peers, version selectors, iree-turbine's torch ranges, models,
the plan (jobs, ids, labels) and its shards, the wheelhouse, the Pythons venvs are built with."""
