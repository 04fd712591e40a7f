"""The kernel's tasks: `kernel ir`'s (`kernel_ir.py`: the IR a kernel's transform spec runs on) and a
bundle's kernel arms (`bundle_kernels.py`). This `__init__` imports nothing."""
