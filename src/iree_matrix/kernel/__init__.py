"""A kernel of the user's (kernel.toml, its C and its transform spec), all in this package: a folder per
layer (tests/unit/test_layers.py), this one in the matrix layer. The registries that find a stage, a
section, a stage's metrics and a command look in its folders too; this `__init__` imports nothing, nor do
its folders' (core/model/metrics/ imports `kernel.model` through it)."""
