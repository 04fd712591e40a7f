"""The typed view of a record's `host`: a field of the wrong type reads as unknown and is kept as it
was, so a rewritten log holds every host byte for byte."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.bundle_runner import host as runner_host
from iree_matrix.core.model.records import text_problem
from iree_matrix.core.system import host as system_host

# x86 vector ISAs, widest first: the cpuinfo flag that says it, and its name (HostIdentity.isa)
_X86_ISAS = (("avx512f", "AVX-512"), ("avx2", "AVX2"))
ISA_ORDER = ("", "SSE", "AVX2", "AVX-512")  # x86's, narrowest first: whether one CPU lacks another's


@dataclasses.dataclass(frozen=True)
class HostIdentity:
    """A host as a record carries it. None: the record does not say."""

    machine: Optional[str] = None  # platform.machine(): x86_64
    cpu: Optional[str] = None  # the model name: "Intel(R) Xeon(R) Processor"
    # x86: vendor_id / cpu family / model / stepping; ARM: implementer / architecture / part / revision
    vendor: Optional[str] = None
    family: Optional[str] = None
    model: Optional[str] = None
    stepping: Optional[str] = None
    cpu_features: Optional[tuple[str, ...]] = None  # the ISA flags a reader looks for (avx2, neon, …)
    cpu_flags_sha256: Optional[str] = None  # every flag, by digest
    cores: Optional[int] = None
    system: Optional[str] = None  # platform.platform()
    libc: Optional[str] = None
    python: Optional[str] = None
    instance: Optional[str] = None  # which machine of its identity (a salted digest), `system_host.instance`
    recorded_identity: Optional[str] = None  # written as `identity`; read through `identity`
    llvm_cpu: Optional[str] = None  # LLVM's name for the CPU (znver4), once a compiler was asked
    llvm_cpu_features_sha256: Optional[str] = None
    llvm_cpu_from: Optional[str] = None  # a bundle's: how it named the CPU without a compiler
    gpus: Optional[tuple[Mapping[str, Any], ...]] = None  # a bundle's: nvidia-smi's name, driver, capability
    # The cpuinfo file IREE_MATRIX_CPUINFO named (system_host.CPUINFO_ENV): the CPU fields are that
    # file's, the figures this machine's; None: the machine's own CPU.
    cpuinfo_from: Optional[str] = None
    # What the host held that is none of the above, or not of its type: kept, for writing back.
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, data: Any) -> HostIdentity:
        """A host from its JSON form; anything but a mapping is an unknown host."""
        if not isinstance(data, Mapping):
            return cls()
        typed = {name: _typed(str(name), value) for name, value in data.items()}
        fields = {
            ("recorded_identity" if n == "identity" else n): v for n, v in typed.items() if v is not None
        }
        return cls(**fields, extra={n: data[n] for n, v in typed.items() if v is None})

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = dict(self.extra)
        for field in dataclasses.fields(self):
            if field.name == "extra" or (value := getattr(self, field.name)) is None:
                continue
            name = "identity" if field.name == "recorded_identity" else field.name
            found[name] = list(value) if isinstance(value, tuple) else value
        return found

    @property
    def known(self) -> bool:
        """Whether the record says anything of its host (a skipped or not-run record may not)."""
        return self != HostIdentity()

    @property
    def identity(self) -> str:
        """The CPU identity a timing of this host belongs to; older records (model name and eight flags,
        which a Zen 4 and a Zen 5 share) get a `legacy:` one, never equal to a new record's."""
        if self.recorded_identity:
            return self.recorded_identity
        if self.cpu_flags_sha256 and self.family is not None:
            return runner_host.identity_string(self.as_dict(), self.simulated)
        features = ",".join(sorted(self.cpu_features or ()))
        return f"legacy:{self.machine or ''}|{self.cpu or ''}|{features}|{self.cores or ''}"

    @property
    def isa(self) -> str:
        """The widest vector ISA its figures were made with ("" unknown): a ratio made with one does not
        carry to a CPU without it."""
        if self.machine == "aarch64":
            return "NEON"
        if self.machine != "x86_64" or self.cpu_features is None:
            return ""
        return next((name for flag, name in _X86_ISAS if flag in self.cpu_features), "SSE")

    @property
    def simulated(self) -> bool:
        """Whether its CPU fields were read from a file (IREE_MATRIX_CPUINFO), not the CPU that ran."""
        return bool(self.cpuinfo_from)

    @property
    def legacy(self) -> bool:
        """A host whose record names no family / model: its figures belong to no CPU a reader can name."""
        return self.identity.startswith("legacy:")

    @property
    def consistent(self) -> bool:
        """Whether its recorded identity is the one its CPU fields make."""
        return dataclasses.replace(self, recorded_identity=None).identity == self.recorded_identity

    def label(self, llvm_cpu: str = "") -> str:
        """A reader's name for the identity; `llvm_cpu`: LLVM's name where the record does not know it."""
        if not self.known:
            return "unknown host"
        name = self.cpu or "unknown CPU"
        llvm = llvm_cpu or self.llvm_cpu or ""
        cores = f", {self.cores} core{'' if self.cores == 1 else 's'}" if self.cores else ""
        if self.legacy:
            return f"{name} (family/model not recorded{', LLVM ' + llvm if llvm else ''}){cores}"
        fms = f"family {self.family} model {self.model} stepping {self.stepping}"
        said = f"{name}, {fms}" + (f" (LLVM {llvm})" if llvm else "") + cores
        return said + (f", simulated from {self.cpuinfo_from}" if self.simulated else "")

    def slug(self, llvm_cpu: str = "") -> str:
        """The identity as a folder names it (results/answers/<slug>/): "genuineintel-6-167-rocketlake"."""
        return runner_host.slug({**self.as_dict(), "llvm_cpu": llvm_cpu or self.llvm_cpu})

    @property
    def where(self) -> str:
        """The CPU's name and its architecture, as a figure's "measured on" says it: "AMD EPYC (x86_64)"."""
        cpu, machine = self.cpu or "", self.machine or ""
        return f"{cpu} ({machine})" if cpu and machine else cpu or machine


# The fields read as text, by the names a record writes them under (`identity`: `recorded_identity`).
_TEXT = frozenset(
    "identity" if f.name == "recorded_identity" else f.name
    for f in dataclasses.fields(HostIdentity)
    if f.type == "Optional[str]"
)


def here() -> HostIdentity:
    return HostIdentity.of(system_host.describe())


def _typed(name: str, value: Any) -> Any:
    """`value` as the field `name` holds it, or None when it is no such field or not of its type."""
    if name in _TEXT:
        return value if isinstance(value, str) and not text_problem(value) else None
    if name == "cores":
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
    if name == "cpu_features":
        ok = isinstance(value, list) and all(isinstance(f, str) and not text_problem(f) for f in value)
        return tuple(value) if ok else None
    if name == "gpus":
        ok = isinstance(value, list) and all(isinstance(g, Mapping) for g in value)
        return tuple(value) if ok else None
    return None
