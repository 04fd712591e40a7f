"""What is built here from source with the host's toolchains, for the targets no wheel serves:
IREE's runtime with cmake (natively or cross-compiled), the bare-metal Cortex-M runtime, its
firmware and qemu-system-arm run, the armv6 hello world."""
