"""What a transform spec's text declares, read without MLIR: the executables a matched spec puts
in the module, and the functions its executables import (a plugin's) or link (an object's)."""

from __future__ import annotations

import re

# `hal.executable private @name` or `hal.executable.source private @name`, and the generic form
# `"hal.executable.source"() <{sym_name = "name", ...}>` (some specs use it: releases differ in how the
# custom form spells `objects`), or its attributes after the region, `}) {sym_name = "name", ...}`
# (the generated specs' and the test kernels': 3.4-3.6 give the op no properties).
_EXECUTABLE = re.compile(r"\bhal\.executable(?:\.source)?\s+(?:private\s+|public\s+)?@([\w$.-]+)")
_GENERIC = re.compile(
    r'(?:"hal\.executable(?:\.source)?"\s*\(\)\s*<\{[^@]{0,400}?|\}\)\s*\{\s*)sym_name\s*=\s*"([\w$.-]+)"'
)


def spec_executables(spec_text: str) -> tuple[str, ...]:
    """The executables a spec declares (`hal.executable`, `hal.executable.source`): where it matched,
    the module holds an executable of that name (its part `<executable>_<variant>.so`)."""
    found = [
        (m.start(), m.group(1)) for pattern in (_EXECUTABLE, _GENERIC) for m in pattern.finditer(spec_text)
    ]
    return tuple(dict.fromkeys(name for _, name in sorted(found)))


# A function the spec's executables declare without a body: what the kernel provides (an import that
# the plugin resolves by this name, or a function the linked object defines).
_DECLARED = re.compile(r"\bfunc\.func\s+private\s+@([\w$.-]+)\s*\(")


def spec_imports(spec_text: str) -> tuple[str, ...]:
    """The functions a spec declares (`func.func private @name(...)` with no body): a plugin's
    imports, whose names a module that takes the kernel holds (its import table)."""
    return tuple(dict.fromkeys(_DECLARED.findall(spec_text)))
