"""The `kernel` command (`kernel.py`), named in cli.py's `MODULES` with every other command's module.
This `__init__` imports nothing."""
