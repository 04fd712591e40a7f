"""A kernel of the user's (kernel.toml, its C and its transform spec) as one seam, as a stage is one
module. The stages that compile and run a cell ask `seam` and carry no kernel branch of their own:

- `kernels.py`: a kernel directory read once and checked (`load`, `load_all`), the one lookup of a
  cell's kernel (`find`), its profile label (`default+k:NAME`);
- `mechanism.py`: how a built kernel reaches the model, one module each (`embedded.py`, `plugin.py`);
- `build.py`: the `kernel` stage's code (registered by stages/kernel.py): the C built for a target;
- `seam.py`: what a compile gains (`compile_part`, `compile_key`: flags, files beside the MLIR, reads,
  key) and a run (`run_part`), the verdicts (`check_compiler`, `judge_compile_failure`,
  `judge_compile`, `judge_run`, `judge_mismatch`), the plans (`plan_compiles`, `run_deps`), and where
  a compile's spec comes from (`SpecSource`: the kernel's files today, a generated spec next);
- `compiled.py`: what a compile says of the kernel it swapped in (applied, refused, the words);
- `recorded.py`: a recorded kernel job, as `show --commands` prints a cell's commands.

This `__init__` imports nothing: `kernels.py` and the mechanisms sit in the matrix layer (the matrix
spec holds the loaded kernels), the rest in the stages layer (tests/unit/test_layers.py), with
`generated.py`: the spec a compile writes from its own IR for a kernel declared by what it replaces."""
