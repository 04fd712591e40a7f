"""What the records say of kernels: per kernel, architecture and release, compiled applied, loaded,
matched (`kernel_windows.py`; `kernels.py` is `query kernel`'s answer) and a kernel swapped into an
advise pick (`kernel_trials.py`). This `__init__` imports nothing."""
