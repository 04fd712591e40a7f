"""binfmt_misc: whether this host runs foreign-CPU binaries (qemu-user handlers), also inside
containers, whose root filesystems have no qemu of their own (the F flag)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")


@dataclasses.dataclass(frozen=True)
class BinfmtEntry:
    name: str
    enabled: bool
    interpreter: str
    flags: str

    @property
    def fix_binary(self) -> bool:
        """F: the interpreter was opened at registration, so it works in containers and chroots."""
        return "F" in self.flags


def parse(name: str, text: str) -> BinfmtEntry:
    """One `/proc/sys/fs/binfmt_misc/<name>` file ("enabled\\ninterpreter ...\\nflags: OCF\\n...")."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    fields = {key.rstrip(":"): value.strip() for key, _, value in (line.partition(" ") for line in lines[1:])}
    return BinfmtEntry(name, lines[:1] == ["enabled"], fields.get("interpreter", ""), fields.get("flags", ""))


def entry(name: str, root: Path = BINFMT_DIR) -> Optional[BinfmtEntry]:
    """The registered handler `name` (e.g. "qemu-arm"), or None (not registered, or binfmt_misc
    not mounted)."""
    try:
        return parse(name, (root / name).read_text())
    except OSError:
        return None


def problem(name: str, root: Path = BINFMT_DIR) -> Optional[str]:
    """Why `name` cannot run foreign binaries inside containers, or None when it can."""
    if (found := entry(name, root)) is None:
        mounted = (root / "register").exists()
        return f"{name} is not registered" + ("" if mounted else f" ({root} is not mounted)")
    if not found.enabled:
        return f"{name} is registered but disabled"
    if not Path(found.interpreter).exists():
        return f"{name}'s interpreter {found.interpreter} does not exist"
    if not found.fix_binary:
        flags = found.flags or "none"
        return f"{name} lacks the F flag (flags: {flags}): containers cannot reach its interpreter"
    return None
