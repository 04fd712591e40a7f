"""Foundation, in three layers (tests/unit/test_layers.py holds them apart):

- `core/` itself: what every layer uses and what knows neither a record nor a process - errors, the
  console, numbers as written, hashing, atomic files, the cache's folders, bounded input files, TOML
  text, excerpts, where the shipped files are. A newcomer looks for these here, so they stay here.
- `core/system/`: the operating system - every subprocess with its process tree, sandbox and
  watchdog, the one container layer, locks, the host and its qemu-user handlers.
- `core/model/`: the record model - a record, its labels and metrics, the log and its index, the
  outcome of a stage, the store, refusals, medians' intervals. It sits above the system layer (a
  record carries the host's description, a process's timeout becomes a status, the log is appended
  under a lock); the system layer never reads a record."""
