"""Reference PyTorch models for iree-matrix.

Each module in this package (``mobilenet_v2``, ``quartznet5x5``, ``tiny_cnn``) follows the
protocol described in :mod:`models.api`: it defines ``build(seed: int = 0) -> ModelSpec`` and
``PARAMETERS: int``. The package imports only the standard library, ``torch`` and ``numpy`` and
keeps Python 3.9 compatible syntax, because it runs inside every matrix environment.
"""
