"""Foundation, IREE's side: each release's package names and flags, compile profiles, CPU targets,
modules (vmfb) and their ELF kernels, how a runtime refuses one, a compile's first error, op
kinds, and the CPU lowering configs per-dispatch tuning rewrites."""
