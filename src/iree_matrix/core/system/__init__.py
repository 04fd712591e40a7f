"""The operating system, as the tool uses it: every subprocess (processes), its whole process tree
and limits (process_tree), its sandbox (bubblewrap, landlock, shm_namespace), the watchdog that
outlives a killed tool, the one container layer (containers), locks, the host's description and its
qemu-user handlers (host, binfmt). Nothing here reads a record: the record model is the layer above."""
