"""COMPATIBILITY.md's custom-kernels section (`custom_kernels.py`), found by report/sections/'s
registry with every other section. This `__init__` imports nothing."""
