"""A cell's configuration (`Config`) and runtime (`Runtime`) as values, and their one spelling
("@decomposed+im2col+cpu-znver4+k:dw", "src:3.9.0+static"), read by `parse` and written by `str`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import ClassVar, Optional

BASELINE = "default"  # the profile of no knob
COMBINE = "+"  # between a configuration's parts: "channels-last+im2col"
VARIANT = "@"  # before an export variant: "@decomposed", as the model is named "whisper_tiny@decomposed"
KERNEL_PREFIX = "k:"  # before a kernel's name: "default+k:depthwise3x3"
SOURCE_PREFIX = "src:"  # before a release whose runtime was built here: "src:3.9.0+static"


@dataclasses.dataclass(frozen=True)
class NamedCpu:
    """Compile for this LLVM CPU instead of `host`; spelled `cpu-NAME` among a configuration's knobs."""

    cpu: str
    PREFIX: ClassVar[str] = "cpu-"

    @property
    def name(self) -> str:
        return f"{self.PREFIX}{self.cpu}"

    @classmethod
    def parse(cls, part: str) -> Optional[NamedCpu]:
        return cls(part[len(cls.PREFIX) :]) if part.startswith(cls.PREFIX) else None

    @classmethod
    def of(cls, names: Iterable[str]) -> Optional[NamedCpu]:
        return min(filter(None, map(cls.parse, names)), key=lambda n: n.cpu, default=None)


@dataclasses.dataclass(frozen=True)
class Config:
    """One configuration of a cell; `cpu_at` only keeps where the text put the named CPU among the
    knobs, so it is spelled back as it was read."""

    variant: str = ""
    knobs: tuple[str, ...] = ()  # as spelled: the store's key follows the flags' order
    cpu: Optional[NamedCpu] = None
    kernel: str = ""
    cpu_at: Optional[int] = dataclasses.field(default=None, compare=False, repr=False)  # None: last

    @classmethod
    def parse(cls, text: str) -> Config:
        """ "@decomposed+im2col+cpu-znver4+k:dw": variant, knobs, named CPU and kernel; "default": none."""
        profile, mark, kernel = text.partition(COMBINE + KERNEL_PREFIX)
        parts = profile.split(COMBINE)
        variant = parts[0][len(VARIANT) :] if parts[0].startswith(VARIANT) else ""
        parts = [p for p in parts if p and p != BASELINE and not p.startswith(VARIANT)]
        cpus = [i for i, p in enumerate(parts) if NamedCpu.parse(p)]
        cpu_at = cpus[0] if len(cpus) == 1 and cpus[0] < len(parts) - 1 else None
        cpu = NamedCpu.parse(parts.pop(cpus[0])) if len(cpus) == 1 else None
        return cls(variant, tuple(parts), cpu, kernel if mark else "", cpu_at)

    @classmethod
    def of(cls, names: Iterable[str], variant: str = "", kernel: str = "") -> Config:
        """A point of the flag search's space: a set of knobs, spelled in name order."""
        knobs = set(names)
        cpu = NamedCpu.of(knobs)
        return cls(variant, tuple(knobs - {cpu.name} if cpu else knobs), cpu, kernel).sorted()

    @property
    def knob_set(self) -> frozenset[str]:
        """Its knobs and its named CPU's, as the search adds, drops and compares them."""
        return frozenset(self.names)

    @property
    def names(self) -> tuple[str, ...]:
        """The profiles this one combines (`flags.combine`): the knobs, the named CPU's in its place."""
        parts = list(self.knobs)
        if self.cpu is not None:
            parts.insert(len(parts) if self.cpu_at is None else self.cpu_at, self.cpu.name)
        return tuple(parts)

    @property
    def profile(self) -> str:
        return COMBINE.join(self.names) or BASELINE

    @property
    def profile_label(self) -> str:
        return self.profile + (f"{COMBINE}{KERNEL_PREFIX}{self.kernel}" if self.kernel else "")

    def __str__(self) -> str:
        if not self.variant:
            return self.profile_label
        label = self.profile_label  # "@decomposed", not "@decomposed+default"
        rest = label.removeprefix(BASELINE) if not self.knobs and self.cpu is None else COMBINE + label
        return f"{VARIANT}{self.variant}{rest}"

    @property
    def changes(self) -> tuple[str, ...]:
        """Each change to `default` by its name, as the search counts them."""
        variant = (f"{VARIANT}{self.variant}",) if self.variant else ()
        return (*variant, *self.names, *((f"{KERNEL_PREFIX}{self.kernel}",) if self.kernel else ()))

    def model(self, base_model: str) -> str:
        return base_model + (f"{VARIANT}{self.variant}" if self.variant else "")

    def with_variant(self, variant: str) -> Config:
        return dataclasses.replace(self, variant=variant)

    def with_cpu(self, cpu: Optional[NamedCpu]) -> Config:
        """Compiled for `cpu` (None: for `host`), spelled after the knobs."""
        return dataclasses.replace(self, cpu=cpu, cpu_at=None)

    def with_kernel(self, kernel: str) -> Config:
        return dataclasses.replace(self, kernel=kernel)

    def without_kernel(self) -> Config:
        return dataclasses.replace(self, kernel="")

    def sorted(self) -> Config:
        """The same configuration with the knobs and the named CPU in name order."""
        knobs = tuple(sorted(self.knobs))
        at = sum(k < self.cpu.name for k in knobs) if self.cpu is not None else None
        return dataclasses.replace(self, knobs=knobs, cpu_at=at if at != len(knobs) else None)


def split_variant(name: str) -> tuple[str, str]:
    """ "whisper_tiny@decomposed.encoder" -> ("whisper_tiny.encoder", "decomposed")."""
    model, dot, function = name.partition(".")
    base, at, variant = model.partition(VARIANT)
    return base + dot + function, variant if at else ""


@dataclasses.dataclass(frozen=True)
class Runtime:
    """A runtime: a release's wheel ("3.9.0"), or that release's runtime built here from its source,
    with the build's variant ("src:3.9.0+static+Os")."""

    release: str
    source: bool = False
    variant: tuple[str, ...] = ()  # a source build's: "static", "Os"

    @classmethod
    def parse(cls, text: str) -> Runtime:
        if not text.startswith(SOURCE_PREFIX):
            return cls(text)
        release, *variant = text[len(SOURCE_PREFIX) :].split(COMBINE)
        return cls(release, True, tuple(variant))

    def __str__(self) -> str:
        return SOURCE_PREFIX + COMBINE.join((self.release, *self.variant)) if self.source else self.release
