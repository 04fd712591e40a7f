"""The kernel's modules of the stages layer: the `kernel` stage (kernel_build), the seam the compile, run
and shell-command stages take from a cell's kernel, and what a compile says of it. Imports nothing."""
