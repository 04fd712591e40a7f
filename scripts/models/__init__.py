"""Reference PyTorch models for iree-matrix: one module per model (its file name is its name;
`name__library.py` is the upstream variant `name@library`).

Each follows the protocol in :mod:`models.api`: ``build(seed: int = 0)`` returns a ``ModelSpec``
or a dict of them (one per exported function, named in ``FUNCTIONS``), and ``PARAMETERS: int``
is the published parameter count the tests check. Plain-torch models import only the standard
library, ``torch`` and ``numpy`` and keep Python 3.9 syntax, because they run inside every
matrix environment; upstream variants also declare the packages they need in ``REQUIREMENTS``.
"""
