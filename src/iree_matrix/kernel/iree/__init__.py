"""The kernel's modules of the iree layer: a kernel's C as IREE's custom dispatches take it
(`custom_dispatch.py`: the C compiler, its flags per target, iree-compile's spec and object flags) and
the transform spec written from a cell's own IR (`spec_gen.py`, its MLIR text in `spec_mlir.py`).
This `__init__` imports nothing."""
