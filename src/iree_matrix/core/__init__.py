"""Foundation, in three layers (tests/unit/test_layers.py holds them apart): `core/` itself (what
knows neither a record nor a process), `core/system/` (the operating system: processes, sandboxes,
containers, locks, the host) and `core/model/` (the record model, above the system layer)."""
