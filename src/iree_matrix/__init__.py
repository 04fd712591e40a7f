"""iree-matrix: a reproducible compatibility and performance matrix for PyTorch models on IREE."""

__version__ = "0.1.0"
