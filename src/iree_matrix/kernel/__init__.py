"""A kernel of the user's (kernel.toml, its C and its transform spec), all in this package: a folder per
layer, each in the layer it is named after (tests/unit/test_layers.py), this one in the matrix layer,
below the matrix that holds the loaded kernels:

- `kernels.py`: a kernel directory read once and checked (`load`, `load_all`), the one lookup of a
  cell's kernel (`find`), its profile label (`default+k:NAME`);
- `mechanism.py`: how a built kernel reaches the model (embedded, plugin: IREE's two custom_dispatch samples);
- `recorded.py`: a recorded kernel job, as `show --commands` prints a cell's commands;
- `kernel_cells.py`: a matrix file's `kernels` and the cells they add;
- `iree/`: its C as IREE's custom dispatches take it, and the spec generated from a cell's IR;
- `model/`: the kernel stage's metrics; `stages/`: the `kernel` stage (the C built for a target) and
  the seam (all a compile and a run take from a cell's kernel, and the verdicts on it);
- `findings/`, `report/`, `tasks/`, `commands/`: what the records say of kernels, their section of
  COMPATIBILITY.md, `kernel ir` and a bundle's kernel arms, the `kernel` command.

The registries that find a stage, a section, a stage's metrics and a command look in this package's
folders too. This `__init__` imports nothing, nor does any of its folders': core/model/metrics/ (the
model layer) imports `kernel.model` through it."""
