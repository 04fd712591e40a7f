"""The kernel stage's metrics (`metrics.py`), in the model layer: core/model/metrics/ finds them with
every other stage's by name. This `__init__` imports nothing (nor may it: that registry runs it)."""
