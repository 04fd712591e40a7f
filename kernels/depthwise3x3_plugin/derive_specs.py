"""Writes this directory's specs from ../depthwise3x3's: the same patterns and executable without the
object (its `objects` attribute) and without `hal.import.static`, so the seven kernel functions are
imports the runtime resolves from the plugin. Run after editing ../depthwise3x3/spec*.mlir."""

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTE = """// GENERATED from ../depthwise3x3/{name} for the plugin mechanism (kernels/depthwise3x3_plugin):
// the same patterns and executable, without its `objects` and without `hal.import.static` on the seven
// declarations, so each is an import the runtime resolves from the plugin. Regenerate after editing
// the original: python kernels/depthwise3x3_plugin/derive_specs.py
// (The original's comments below still speak of the object; here there is none.)

"""
OBJECTS = re.compile(
    r",\n    objects = #hal\.executable\.objects<\{\n"
    r'(?:      #\w+ = \[#hal\.executable\.object<\{path = "[\w.]+"\}>\],?\n)+'
    r"    \}>\}"
)

for name in ("spec.mlir", "spec-pre3.4.mlir"):
    text = (HERE.parent / "depthwise3x3" / name).read_text()
    text = text.replace(" attributes {hal.import.static}", "")
    text, found = OBJECTS.subn("}", text)
    if found != 1:
        raise SystemExit(f"../depthwise3x3/{name}: expected one `objects = #hal.executable.objects<...>`")
    (HERE / name).write_text(NOTE.format(name=name) + text)
