"""Which models exist and where their code is — known without importing torch.

A model is named in a matrix file (or with `--model`) as
  - a built-in name: `mobilenet_v2` (a module under scripts/models/),
  - a file and factory: `path/to/my_model.py:build`,
  - an importable module and factory: `mypackage.models:make_net`.
The factory returns the protocol of scripts/models/api.py: a `ModelSpec` (module, inputs, atol,
rtol) or a dict of them, one per exported function.

What the planner needs from a model's source it reads with `ast`, never by importing it (the
orchestrator has no torch): `FUNCTIONS = ("encoder", "decoder_step")` names the functions of a
factory that returns a dict, and `REQUIREMENTS = ("transformers==5.0.0",)` adds packages to the
exporter environment.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import keyword
from pathlib import Path
from typing import Optional

from iree_matrix import _resources
from iree_matrix._hashing import file_sha256

MAIN = "main"


class ModelError(ValueError):
    """A model reference that does not resolve; the message says why (the caller adds where)."""


@dataclasses.dataclass(frozen=True)
class ModelRef:
    name: str  # what ids and tables call it
    file: Path  # the source file (hashed into export keys)
    factory: str
    module: Optional[str] = None  # import it under this name (from `import_root`) instead of by path
    import_root: Optional[Path] = None
    functions: tuple[str, ...] = (MAIN,)
    requirements: tuple[str, ...] = ()
    builtin: bool = False

    def unit(self, function: str) -> str:
        """The model part of a job id: `whisper_tiny.encoder`, or just `mobilenet_v2`."""
        return self.name if function == MAIN else f"{self.name}.{function}"

    def worker_args(self) -> list[str]:
        if self.module is not None:
            return [
                "--module",
                self.module,
                "--import-root",
                str(self.import_root),
                "--factory",
                self.factory,
            ]
        return ["--file", str(self.file), "--factory", self.factory]

    def mounts(self) -> list[Path]:
        """What an isolating backend must make readable for the worker to import the model."""
        return [self.import_root] if self.import_root is not None else [self.file.parent]

    def source_hash(self) -> str:
        return file_sha256(self.file)


# An upstream variant of a model (the real library's code, e.g. Hugging Face transformers) is
# named `whisper_tiny@transformers`; `@` cannot be in a module name, so its file is
# `whisper_tiny__transformers.py`.
_VARIANT_FILE_SEP = "__"


def builtin_names() -> tuple[str, ...]:
    models = _resources.scripts_dir() / "models"
    stems = (p.stem for p in models.glob("*.py") if not p.stem.startswith("_") and p.stem != "api")
    return tuple(sorted(stem.replace(_VARIANT_FILE_SEP, "@") for stem in stems))


def resolve(text: str, base: Path) -> ModelRef:
    """A model reference from a matrix file (paths relative to `base`) or the command line."""
    if ":" not in text:
        if text not in builtin_names():
            raise ModelError(
                f"unknown model (built-in: {', '.join(builtin_names())}; or path/to/file.py:factory)"
            )
        scripts = _resources.scripts_dir()
        stem = text.replace("@", _VARIANT_FILE_SEP)
        file = scripts / "models" / f"{stem}.py"
        return _with_statics(ModelRef(text, file, "build", f"models.{stem}", scripts, builtin=True))
    target, _, factory = text.rpartition(":")
    if not factory.isidentifier() or keyword.iskeyword(factory):
        raise ModelError(f"factory {factory!r} is not a Python name")
    if target.endswith(".py") or "/" in target:
        file = (base / target).expanduser().resolve()
        if not file.is_file():
            raise ModelError(f"no such file: {file}")
        name = file.stem if factory == "build" else f"{file.stem}-{factory}"
        return _with_statics(ModelRef(_check_name(name), file, factory))
    return _from_module(target, factory)


def _from_module(module: str, factory: str) -> ModelRef:
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise ModelError(f"module {module!r} cannot be found: {exc}") from None
    if found is None or not found.origin or not found.origin.endswith(".py"):
        raise ModelError(f"module {module!r} is not an importable .py file on this Python's path")
    file = Path(found.origin).resolve()
    depth = module.count(".") + (1 if file.name == "__init__.py" else 0)
    root = file.parents[depth]
    name = module.rsplit(".", 1)[-1] if factory == "build" else f"{module.rsplit('.', 1)[-1]}-{factory}"
    return _with_statics(ModelRef(_check_name(name), file, factory, module, root))


def _check_name(name: str) -> str:
    if name in builtin_names():
        raise ModelError(f"its name {name!r} is a built-in model's; rename the file or the factory")
    return name.replace(".", "_")


def _with_statics(ref: ModelRef) -> ModelRef:
    statics = read_statics(ref.file)
    functions = statics.get("FUNCTIONS", (MAIN,))
    requirements = statics.get("REQUIREMENTS", ())
    if not functions or not all(isinstance(f, str) and f.isidentifier() for f in functions):
        raise ModelError(f"{ref.file}: FUNCTIONS must be a tuple of Python names, got {functions!r}")
    if not all(isinstance(r, str) for r in requirements):
        raise ModelError(f"{ref.file}: REQUIREMENTS must be a tuple of requirement strings")
    return dataclasses.replace(ref, functions=tuple(functions), requirements=tuple(requirements))


def read_statics(file: Path) -> dict:
    """Top-level `FUNCTIONS` / `REQUIREMENTS` literals of a model file, without executing it."""
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    except SyntaxError as exc:
        raise ModelError(f"{file}:{exc.lineno}: not valid Python: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"{file}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("FUNCTIONS", "REQUIREMENTS"):
                    try:
                        value = ast.literal_eval(node.value)
                        # A bare string is iterable too: tuple("abc") would be three names.
                        if not isinstance(value, (tuple, list)):
                            raise TypeError
                        found[target.id] = tuple(value)
                    except (ValueError, TypeError):
                        raise ModelError(f"{file}: {target.id} must be a literal tuple of strings") from None
    return found
