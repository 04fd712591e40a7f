"""Foundation: a record and its log, the store, outcomes and errors, the host (its qemu-user
handlers too), and what every layer uses: subprocesses and their watchdog, atomic files, locks,
hashing, text, numbers as written, medians' intervals, where the shipped files are."""
