"""Which models exist and where their code is (a built-in name, `FILE.py:factory` or `module:factory`),
read with `ast`: planning never runs a user's code, not even a package's `__init__.py`."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import keyword
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import input_files, pasted, shipped
from iree_matrix.core.model import refusals
from iree_matrix.core.model.results import Record, Status
from iree_matrix.matrix import export_recipes as recipes

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
    recipe: str = ""  # an export recipe (matrix/export_recipes.py): `llama@transformers~eager+select-cache`

    def function_name(self, function: str) -> str:
        """The model part of a job id: `whisper_tiny.encoder`, or just `mobilenet_v2`."""
        return self.name if function == MAIN else f"{self.name}.{function}"

    def worker_args(self) -> list[str]:
        if self.module is None:
            return ["--file", str(self.file), "--factory", self.factory]
        return ["--module", self.module, "--import-root", str(self.import_root), "--factory", self.factory]

    def mounts(self) -> list[Path]:
        """What an isolating backend must make readable for the worker to import the model."""
        if self.import_root is not None and self.module is not None:
            top = self.import_root / self.module.split(".")[0]
            return [top if top.is_dir() else top.with_name(top.name + ".py")]
        return [self.import_root] if self.import_root is not None else [readable_beside(self.file)]

    @property
    def reference(self) -> str:
        """What a command line takes to name this model again, with its recipe after `~`."""
        if self.builtin:
            return self.name
        where = self.module if self.module is not None else str(self.file)
        return f"{where}:{self.factory}" + (f"{recipes.SEP}{self.recipe}" if self.recipe else "")


# Directories too wide to bind for a file found in them: the sandbox would show all they hold.
_WIDE = ("/", "/tmp", "/var/tmp", "/dev/shm", "/home", "/root", "/run", "/etc", "/usr", "/var")


def readable_beside(file: Path) -> Path:
    """What a sandbox binds for a file a model's worker reads: its directory, unless too wide: the file."""
    file = Path(os.path.abspath(file))
    parent = file.parent
    home = None
    with contextlib.suppress(RuntimeError, OSError):
        home = Path.home().resolve()
    for candidate in {parent, parent.resolve()}:
        if str(candidate) in _WIDE or (home is not None and home.is_relative_to(candidate)):
            return file
    return parent


# A model's variant `MODEL@VARIANT` is a module of its own: `@` cannot be in a module name, so its
# file is `MODEL__VARIANT.py`.
_VARIANT_FILE_SEP = "__"


def builtin_names() -> tuple[str, ...]:
    models = shipped.scripts_dir() / "models"
    stems = (p.stem for p in models.glob("*.py") if not p.stem.startswith("_") and p.stem != "api")
    return tuple(sorted(stem.replace(_VARIANT_FILE_SEP, "@") for stem in stems))


def user_name(stem: str, factory: str) -> str:
    """A user's model's name: its file's stem, and `-factory` unless it is `build` (`hf_models-vit`)."""
    return (stem if factory == "build" else f"{stem}-{factory}").replace(".", "_")


def split_recipe(text: str) -> tuple[str, str]:
    """(the model reference, its export recipe or "") of `text`; the recipe follows the factory."""
    if ":" in text:
        target, _, tail = text.rpartition(":")
        factory, tilde, recipe = tail.partition(recipes.SEP)
        return f"{target}:{factory}", recipe if tilde else ""
    model, _, recipe = text.partition(recipes.SEP)
    return model, recipe


def name_of(text: str) -> str:
    """The name of the model `text` names, without reading the file (records outlive the file)."""
    model, recipe = split_recipe(text)
    if ":" not in model:
        return text
    target, _, factory = model.rpartition(":")
    stem = Path(target).stem if target.endswith(".py") or "/" in target else target.rsplit(".", 1)[-1]
    return user_name(stem, factory) + (f"{recipes.SEP}{recipe}" if recipe else "")


def with_recipe(ref: ModelRef, recipe: str) -> ModelRef:
    try:
        recipes.parse(recipe)
    except ValueError as exc:
        raise ModelError(str(exc)) from None
    return dataclasses.replace(ref, name=f"{ref.name}{recipes.SEP}{recipe}", recipe=recipe)


def resolve(text: str, base: Path) -> ModelRef:
    """A model reference from a matrix file (paths relative to `base`) or the command line."""
    model, recipe = split_recipe(text)
    if recipe or text.endswith(recipes.SEP):  # the same module, exported by another worker
        if not recipe:  # `FILE:build~`: said as what is missing, not as "unknown choice ''"
            raise ModelError(
                f"nothing after {recipes.SEP!r}: name an export recipe after it (e.g. "
                f"{model}{recipes.SEP}fx+decompose), or leave the {recipes.SEP!r} out"
            )
        if not model or (":" not in model and model not in builtin_names()):
            raise ModelError(
                f"{text}: a recipe ({recipes.SEP}...) follows a built-in model's name or "
                f"path/to/file.py:factory, not {model!r}"
            )
        return with_recipe(resolve(model, base), recipe)
    if ":" not in text:
        if text not in builtin_names():
            raise ModelError(
                factory_missing(text, base)
                or f"unknown model (built-in: {', '.join(builtin_names())}; or path/to/file.py:factory)"
            )
        scripts = shipped.scripts_dir()
        stem = text.replace("@", _VARIANT_FILE_SEP)
        file = scripts / "models" / f"{stem}.py"
        return _with_statics(ModelRef(text, file, "build", f"models.{stem}", scripts, builtin=True))
    target, _, factory = text.rpartition(":")
    if not factory.isidentifier() or keyword.iskeyword(factory):
        raise ModelError(f"factory {factory!r} is not a Python name")
    if target.endswith(".py") or "/" in target or (base / target).expanduser().is_file():
        given = (base / target).expanduser()
        try:  # before resolve(): a symlink loop there is a RuntimeError, not a message
            input_files.check_regular(given)
        except input_files.InputFileError as exc:
            if exc.missing:
                head, colon, first = target.rpartition(":")  # FILE:build:extra: one ':' too many
                if colon and (base / head).expanduser().is_file():
                    raise ModelError(
                        f"{text}: more than one ':'; a model is FILE:FACTORY, e.g. {head}:{first}"
                    ) from None
                raise ModelError(f"no such file: {given}") from None
            raise ModelError(f"{given}: {exc.reason}; a model is a Python file") from None
        if given.suffix != ".py":  # the export imports it as a module: no loader takes another suffix
            raise ModelError(
                f"{given}: a model is a Python file ending in .py; rename it (or copy it) to {given.stem}.py"
            )
        file = given.resolve()
        return _with_statics(ModelRef(_check_name(user_name(file.stem, factory)), file, factory))
    file, root = find_module_file(target, [str(base), *sys.path])  # a module: `mypackage.models:make_net`
    name = user_name(target.rsplit(".", 1)[-1], factory)
    return _with_statics(ModelRef(_check_name(name), file, factory, target, root))


def factory_missing(text: str, base: Path) -> Optional[str]:
    """Why `text`, a Python file named without its factory, names no model; None when it is no such file."""
    if not text.endswith(".py"):
        return None
    given = (base / text).expanduser()
    if not given.is_file():
        return None
    functions = []
    with contextlib.suppress(ModelError):
        functions = defined_functions(given)
    which = f" (its top-level functions: {', '.join(functions[:8])})" if functions else ""
    example = functions[0] if functions else "FACTORY"
    return f"name the factory too, {text}:{example}{which}: the function that returns its ModelSpec"


def defined_functions(file: Path) -> list[str]:
    """The functions a model file defines at its top level, in order: defs, and names bound to calls."""
    try:
        tree = ast.parse(input_files.read_bounded(file, MAX_FILE_BYTES).decode(SOURCE_ENCODING))
    except (input_files.InputFileError, SyntaxError, UnicodeDecodeError, ValueError):
        raise ModelError(f"{file}: not readable Python") from None
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Call, ast.Lambda)):
            bound = (n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name))
            found += [name for name in bound if not name.isupper()]  # a constant is no factory
    return found


def reference_in(argv: Sequence[str]) -> Optional[str]:
    """The reference of a user's model that a worker's command line ran; None for a built-in model."""
    values: dict[str, str] = {}
    for flag, value in zip(argv, argv[1:]):
        if flag in ("--file", "--module", "--import-root", "--factory", "--recipe"):
            values.setdefault(flag, value)
    if (factory := values.get("--factory")) is None:
        return None
    module = values.get("--module")
    stem = module[len("models.") :] if module is not None and module.startswith("models.") else ""
    if stem and stem.replace(_VARIANT_FILE_SEP, "@") in builtin_names():
        return None
    where = module if module is not None else values.get("--file")
    if where is None:
        return None
    recipe = values.get("--recipe")
    return f"{where}:{factory}" + (f"{recipes.SEP}{recipe}" if recipe else "")


def references(records: Iterable[Record]) -> dict[str, str]:
    """Each user model's name -> what a command line takes to name it, from its export records."""
    found: dict[str, str] = {}
    for record in records:
        if record.stage != "export" or not record.command:
            continue
        if (reference := reference_in(record.command)) is not None:
            found.setdefault(record.label.source_model or record.label.model, reference)
    return found


def command_argument(name: str, known: Mapping[str, str]) -> str:
    """`name` as a command line takes it, quoted: its reference when `known` has one, else the name."""
    import shlex

    return shlex.quote(known.get(name, name))


# The stages whose failure another export can route around: a recipe changes the MLIR they take.
ROUTABLE_STAGES = ("export", "compile", "run")


def recipe_may_route(record: Record) -> bool:
    """Whether exporting another way could honestly get past `record`'s failure (not a mismatch: a
    recipe would hide the defect)."""
    if record.label.kernel or record.stage == "kernel":  # the kernel's: `kernel_offer`, never an export's
        return False
    return record.status == Status.FAIL and record.stage in ROUTABLE_STAGES and not refusals.refused(record)


def search_offer(
    model: str, known: Mapping[str, str], failures: Iterable[Record], where: pasted.Where = pasted.HERE
) -> str:
    """The recipe search offered for `failures` of `model` no known signature explains, if any."""
    failures = list(failures)
    base, recipe = recipes.split(model)
    failed = [r for r in failures if r.status is not Status.OK]
    kernels = sorted({r.label.kernel for r in failed if r.label.kernel})
    if failed and all(r.label.kernel for r in failed):  # the kernel's: its own steps, never an export's
        return (
            f"with kernel {', '.join(map(repr, kernels))}: the kernel's failure, not the export's; "
            f"`{where.line(f'iree-matrix kernel ir {command_argument(base, known)} --kernel DIR')}` prints "
            "the IR its spec runs on, and its C builds by the command `iree-matrix query kernel NAME` prints"
        )
    if recipe or base in builtin_names() or not any(recipe_may_route(r) for r in failures):
        return ""
    return recipes.search_offer(command_argument(base, known), where)


def find_module_file(module: str, path: Sequence[str]) -> tuple[Path, Path]:
    """(the .py file of `module`, the path entry it is under), as `import` finds it, importing nothing."""
    parts = module.split(".")
    if not all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        raise ModelError(f"module {module!r} is not a dotted Python name (or use path/to/file.py:factory)")
    looked = []
    for entry in dict.fromkeys(os.path.abspath(e or os.curdir) for e in path):
        root = Path(entry)
        if not root.is_dir():
            continue  # a zip file or a missing entry: a model must be a plain .py file
        package = root.joinpath(*parts[:-1])
        for candidate in (package / f"{parts[-1]}.py", package / parts[-1] / "__init__.py"):
            if candidate.is_file():
                return candidate.resolve(), root.resolve()
        looked.append(str(package))
    where = "/".join(parts)
    raise ModelError(
        f"module {module!r} not found: no {where}.py or {where}/__init__.py under the matrix's directory "
        f"or this Python's path ({len(looked)} directories); give path/to/file.py:factory instead"
    )


def _check_name(name: str) -> str:
    if name in builtin_names():
        raise ModelError(f"its name {name!r} is a built-in model's; rename the file or the factory")
    return name


def _with_statics(ref: ModelRef) -> ModelRef:
    statics = read_statics(ref.file)
    functions = statics.get("FUNCTIONS", (MAIN,))
    requirements = statics.get("REQUIREMENTS", ())
    if not functions or not all(isinstance(f, str) and f.isidentifier() for f in functions):
        raise ModelError(f"{ref.file}: FUNCTIONS must be a tuple of Python names, got {functions!r}")
    if not all(isinstance(r, str) for r in requirements):
        raise ModelError(f"{ref.file}: REQUIREMENTS must be a tuple of requirement strings")
    if (defined := statics.get("names")) is not None and ref.factory not in defined:
        raise ModelError(
            f"{ref.file}: defines no {ref.factory!r} at its top level (the factory the reference names)"
        )
    uncallable = statics.get("uncallable", {}).get(ref.factory)
    if uncallable:  # the export would say only "takes_args() missing 1 required positional argument"
        raise ModelError(
            f"{ref.file}: {ref.factory}({uncallable[0]}) cannot be called as the export calls a factory, "
            f"{ref.factory}(seed) (or {ref.factory}() when it takes no parameter): {uncallable[1]}; "
            "give the parameters after the seed defaults"
        )
    value = statics.get("values", {}).get(ref.factory)
    if value is not None:  # `NAME = 3`: the export would say only "has no callable 'NAME'", late
        raise ModelError(
            f"{ref.file}: {ref.factory} = {value} is a value, not a function; the factory the reference "
            "names is a function that returns a ModelSpec"
        )
    return dataclasses.replace(ref, functions=tuple(functions), requirements=tuple(requirements))


# A model file is Python source (the largest built-in is a few kB); its weights are never in it.
MAX_FILE_BYTES = 16 << 20
# As Python reads a source file: UTF-8, a byte-order mark first taken (Windows editors write one).
SOURCE_ENCODING = "utf-8-sig"


def read_statics(file: Path) -> dict[str, Any]:
    """Top-level `FUNCTIONS` / `REQUIREMENTS` literals of a model file and its top-level "names"."""
    try:
        source = input_files.read_bounded(file, MAX_FILE_BYTES).decode(SOURCE_ENCODING)
        tree = ast.parse(source, filename=str(file))
    except input_files.InputFileError as exc:
        raise ModelError(f"{file}: {exc.reason}; a model is a Python file") from None
    except SyntaxError as exc:
        line = f":{exc.lineno}" if exc.lineno else ""  # a NUL byte's error has no line ("FILE:None")
        raise ModelError(f"{file}{line}: not valid Python: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"{file}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    found: dict[str, Any] = {
        "names": _top_level_names(tree.body),
        "values": _literal_only(tree.body),
        "uncallable": _uncallable(tree.body),
    }
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name) and target.id in ("FUNCTIONS", "REQUIREMENTS") and node.value:
                    try:
                        value = ast.literal_eval(node.value)
                        # A bare string is iterable too: tuple("abc") would be three names.
                        if not isinstance(value, (tuple, list)):
                            raise TypeError
                        found[target.id] = tuple(value)
                    except (ValueError, TypeError):
                        raise ModelError(f"{file}: {target.id} must be a literal tuple of strings") from None
    return found


def _uncallable(body: list[ast.stmt]) -> dict[str, tuple[str, str]]:
    """Undecorated top-level functions neither `f()` nor `f(seed)` can call, with why."""
    found: dict[str, tuple[str, str]] = {}
    for node in body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.decorator_list:
            continue
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        required = positional[: len(positional) - len(arguments.defaults)]
        missing = [a.arg for a in required[1:]]  # the seed fills the first
        missing += [a.arg for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is None]
        # the `~eager` recipe gives this one by name (scripts/export_recipe.py)
        missing = [name for name in missing if name != "attn_implementation"]
        if missing:
            found[node.name] = (ast.unparse(arguments), f"{missing[0]!r} has no default")
        elif not positional and not arguments.vararg and arguments.kwonlyargs:
            found[node.name] = (ast.unparse(arguments), "it takes no positional parameter for the seed")
    return found


_LITERALS = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr)


def _literal_only(body: list[ast.stmt]) -> dict[str, str]:
    """Names the module's top level binds only to literals, with their source text (no factory)."""
    literal: dict[str, str] = {}
    other: set[str] = set()
    for node in body:
        value: Optional[ast.expr] = None
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.AnnAssign):
            value, targets = node.value, [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if value is not None and isinstance(value, _LITERALS) and len(names) == len(targets):
            text = ast.unparse(value)
            literal.update({n: text if len(text) <= 40 else text[:37] + "..." for n in names})
        else:
            other |= _top_level_names([node]) or set()
    return {n: v for n, v in literal.items() if n not in other}


def _top_level_names(body: list[ast.stmt]) -> Optional[set[str]]:
    """Names a module's top level binds (in if/try/with too); None when it has `from x import *`."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        else:
            nested: list[ast.stmt] = []
            for field in ("body", "orelse", "finalbody"):
                nested += getattr(node, field, None) or []
            nested += [stmt for handler in getattr(node, "handlers", ()) for stmt in handler.body]
            inner = _top_level_names(nested) if nested else set()
            if inner is None:
                return None
            names |= inner
    return names
