"""The kernel's modules of the stages layer: the `kernel` stage (`kernel_build.py`: the C built into an
object or plugin; stages/'s registry finds its `STAGE`), the seam all the compile, run and
shell-command stages take from a cell's kernel (`kernel_seam.py`), what a compile says of a kernel it
swapped in (`kernel_compiled.py`) and the spec a compile writes for a generated kernel
(`kernel_generated.py`). This `__init__` imports nothing."""
