"""How a built kernel reaches a model's code: a mechanism, one class each in `REGISTRY` (IREE's
samples/custom_dispatch/cpu/embedded: `Mechanism` itself, and .../plugin). Callers ask the kernel's
mechanism, never its name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from iree_matrix.kernel import spec_text
from iree_matrix.kernel.iree import custom_dispatch as iree
from iree_matrix.kernel.iree import spec_mlir

EMBEDDED = "embedded"  # the object linked into the executable (samples/custom_dispatch/cpu/embedded)
PLUGIN = "plugin"  # a standalone plugin the runtime loads (samples/custom_dispatch/cpu/plugin)


class Refused(ValueError):
    """A kernel.toml value its mechanism refuses, args (key, value, why): value None, the key is missing."""


class Mechanism:
    """What the loader, the kernel job, the compile, the run and `show --commands` ask of a mechanism;
    itself the embedded one: the kernel's object, linked into the module's executable, so that a run needs
    nothing more. Another mechanism overrides what differs."""

    needs_iree_source = False  # its C includes IREE's plugin header (the matrix's IREE source, keyed)
    checks_visibility = True  # on ARM, what the executable calls may not be default-visible (no PLT)
    run_loads = False  # every run loads the built file, so depends on the kernel job
    links_built = True  # the module links the built files: the compile's directory holds them by name
    # What a generated spec's declarations and executables say of the built file: hal.import.static, and
    # each target's executable names the object.
    spec_links: tuple[str, str] = spec_mlir.LINKED

    def object_name(self, given: Optional[str], name: str) -> str:
        """The built file's name (kernel.toml's `object`, `given`), checked; raises `Refused`."""
        if given is None:
            raise Refused("object", None, "no 'object' (an embedded kernel names the object its spec links)")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.o", given):
            raise Refused("object", given, "expected a bare file name ending in .o, as the spec names it")
        return given

    def check_spec(self, spec: str, text: str, built: str) -> None:
        """A spec file's text, checked for what the mechanism links; raises `Refused`."""
        if built not in text:
            why = f"the spec ({spec}) names no such object: it must be the path of its #hal.executable.object"
            raise Refused("object", built, why)

    def link_flags(self, sources: int) -> Optional[tuple[str, ...]]:
        """ld.lld's flags linking the compiled sources into the built file (None: one, compiled to it)."""
        return ("-r",) if sources > 1 else None  # one relocatable object by the name the spec gives it

    def provided(self, spec: str) -> tuple[str, ...]:
        """The functions a module that took the kernel names besides the object's, from its spec's text."""
        return ()

    def compile_flags(self, spec: str, objects: str) -> list[str]:
        """iree-compile's flags that swap the kernel in, `spec` and `objects` as the compile sees them."""
        return [f"{iree.TRANSFORM_SPEC_FLAG}={spec}", f"{iree.OBJECT_SEARCH_PATH_FLAG}={objects}"]

    def load_flags(self, built: str) -> tuple[str, ...]:
        """The runtime's flags that load the built file `built` (none where the module holds it)."""
        return ()

    def note(self, entry: Path) -> str:
        """Where a recorded kernel job's files (`entry`) were taken, for `show --commands`."""
        held = f"{entry}/spec.mlir and the object of {entry}/objects"
        return f"the compile's directory also held {held} by their bare names"


class Plugin(Mechanism):
    """The spec declares the kernel's functions as imports; every run loads the standalone plugin the
    kernel job linked, which resolves them."""

    needs_iree_source, checks_visibility, run_loads, links_built = True, False, True, False
    spec_links = spec_mlir.IMPORTED  # no object, no hal.import.static: imports resolved by name

    def object_name(self, given: Optional[str], name: str) -> str:
        plugin = f"{name}.so" if given is None else given
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.so", plugin):
            why = "expected a bare file name ending in .so (the plugin the runtime loads)"
            raise Refused("object", plugin, why)
        return plugin

    def check_spec(self, spec: str, text: str, built: str) -> None:
        code = re.sub(r"//[^\n]*", "", text)  # its comments may say what it does not do
        if "#hal.executable.object" in code or "hal.import.static" in code:
            why = "a plugin's spec declares the kernel's functions as imports: it names no "
            why += "#hal.executable.object and no hal.import.static (those link an object: mechanism = "
            why += '"embedded")'
            raise Refused("spec", spec, why)

    def link_flags(self, sources: int) -> Optional[tuple[str, ...]]:
        return iree.PLUGIN_LDFLAGS

    def provided(self, spec: str) -> tuple[str, ...]:
        return spec_text.spec_imports(spec)  # which the module names for the runtime to resolve

    def compile_flags(self, spec: str, objects: str) -> list[str]:
        return [f"{iree.TRANSFORM_SPEC_FLAG}={spec}"]

    def load_flags(self, built: str) -> tuple[str, ...]:
        return (iree.run_flag(built),)

    def note(self, entry: Path) -> str:
        loads = f"the run loads the plugin from {entry}/objects ({iree.RUNTIME_PLUGIN_FLAG}=embedded:PATH)"
        return f"the compile's directory also held {entry}/spec.mlir by its bare name; {loads}"


REGISTRY: dict[str, Mechanism] = {EMBEDDED: Mechanism(), PLUGIN: Plugin()}


def of(name: Optional[str]) -> Mechanism:
    """The mechanism called `name` (None: embedded, which records have never named)."""
    return REGISTRY.get(name or EMBEDDED, REGISTRY[EMBEDDED])


def recorded(kernel: Any) -> dict[str, str]:
    """What a key or record says of the kernel's mechanism: none for an embedded kernel (as always)."""
    return {} if kernel.mechanism == EMBEDDED else {"mechanism": kernel.mechanism}
