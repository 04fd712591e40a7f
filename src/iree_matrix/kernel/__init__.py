"""A kernel of the user's (kernel.toml, its C and its transform spec) as it is declared, below the
matrix that holds the loaded kernels; what the stages do with one is kernel/stages/kernel_build.py (the
`kernel` stage: the C built for a target) and kernel/stages/kernel_seam.py (all a compile and a run take
from a cell's kernel, and the verdicts on it; with kernel_compiled.py and kernel_generated.py):

- `kernels.py`: a kernel directory read once and checked (`load`, `load_all`), the one lookup of a
  cell's kernel (`find`), its profile label (`default+k:NAME`);
- `mechanism.py`: how a built kernel reaches the model (embedded, plugin: IREE's two custom_dispatch samples);
- `recorded.py`: a recorded kernel job, as `show --commands` prints a cell's commands.

A matrix file's `kernels` and the cells they add: kernel/kernel_cells.py. This `__init__` imports
nothing."""
