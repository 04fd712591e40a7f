"""Environments for boards: IREE's runtime built from source (natively or cross-compiled), the
bare-metal Cortex-M runtime, its firmware and qemu-system-arm run, the armv6 hello world."""
