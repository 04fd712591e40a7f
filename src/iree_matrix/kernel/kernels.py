"""Kernels: a user's own C, swapped into a model's dispatches. A kernel is a directory with a
`kernel.toml` (its keys: `_KEYS`; docs/kernels.md), read and checked here, each problem one line naming
the file and the key."""

from __future__ import annotations

import dataclasses
import json
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Union

from iree_matrix.core import excerpts, input_files
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import digest, file_sha256
from iree_matrix.core.model.configuration import split_variant
from iree_matrix.core.system import bubblewrap, shared_files
from iree_matrix.core.toml_text import tomllib
from iree_matrix.iree import flag_safety, opkinds, torch_ops, versions
from iree_matrix.kernel import mechanism as mechanisms
from iree_matrix.kernel.iree import custom_dispatch, spec_gen
from iree_matrix.kernel.mechanism import EMBEDDED
from iree_matrix.matrix import export_recipes as recipes

KERNEL_FILE = "kernel.toml"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SOURCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*\.(c|h)")
_MAX_BYTES = 1 << 20
_REPLACES = '{ module = "features.*.conv.1" }, { class = "Hardswish" } or { op = "aten.softmax" }'
_KEYS: dict[str, tuple[Any, str]] = {
    "name": (str, "a name of letters, digits and . _ - (it becomes part of job ids)"),
    "description": (str, "a string"),
    "sources": (list, 'a list of C files in the kernel\'s directory, e.g. ["depthwise.c"]'),
    "spec": (str, "the transform spec's file in the kernel's directory, e.g. \"spec.mlir\""),
    "object": (str, 'the object file name the spec names, e.g. "depthwise.o" (a plugin: "name.so")'),
    "replaces": (
        (str, dict),
        f"what the kernel replaces: words, or for the tool to write the spec {_REPLACES} (and function)",
    ),
    "function": (str, 'the C function a generated spec calls, e.g. "hswish_kernel"'),
    "args": (
        list,
        'the C function\'s arguments in order, e.g. ["output", "input:0"] (default: inputs, output)',
    ),
    "cflags": (list, 'a list of C compiler flags, e.g. ["-DBLOCK=16"]'),
    "models": (list, 'a list of model names, e.g. ["mobilenet_v2"]'),
    "op_kinds": (list, 'the op kinds it computes, of iree/opkinds.py\'s words, e.g. ["depthwise"]'),
    "requires_flags": (list, 'a list of iree-compile flags, e.g. ["--iree-opt-data-tiling"]'),
    "run_flags": (list, 'a list of IREE runtime flags, e.g. ["--task_worker_stack_size=196608"]'),
    "mechanism": (str, f"one of {', '.join(repr(m) for m in mechanisms.REGISTRY)}"),
    "specs": (
        list,
        'tables [[specs]] of file = "spec-old.mlir" and a window: from = "X" and/or before = "Y"',
    ),
    "calls": (list, "tables [[calls]] of function, replaces = {...} and args: more ops, other functions"),
}
_WINDOW_KEYS = ("file", "from", "before")
_CALL_KEYS = {"function", "replaces", "args"}
_REQUIRED = ("name", "sources")
GENERATED = "generated"  # the spec name a compile records for a spec the tool wrote
SPEC_FILE = "kernel-spec.mlir"  # that spec's file, in the compile's entry beside its module
# What a kernel's directory may hold in all: it is copied into the store and bound into the sandbox.
_MAX_DIRECTORY_BYTES = 16 << 20


class KernelError(ValueError):
    """A kernel that cannot be read or is not well formed; the message is one line naming it."""


@dataclasses.dataclass(frozen=True)
class SpecWindow:
    """A spec for the compiler releases in [since, before): releases spell the transform dialect apart."""

    file: str
    since: str = ""
    before: str = ""

    def holds(self, release: str) -> bool:
        if not versions.is_valid(release):
            return False
        order = versions.release_order(release)
        if self.since and order < versions.release_order(self.since):
            return False
        return not (self.before and order >= versions.release_order(self.before))


@dataclasses.dataclass(frozen=True)
class Kernel:
    name: str
    directory: Path
    sources: tuple[str, ...]  # relative to `directory`
    spec: str  # relative to `directory`
    object: str  # the object's file name, as the spec names it
    cflags: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # empty: meant for every model
    # What it computes (iree/opkinds.py KINDS): `advise` tries a library kernel where these hold a gap.
    op_kinds: tuple[str, ...] = ()
    requires_flags: tuple[str, ...] = ()  # iree-compile flags the spec's pattern needs
    run_flags: tuple[str, ...] = ()  # IREE runtime flags its modules need (a bigger worker stack)
    spec_windows: tuple[SpecWindow, ...] = ()  # other specs by compiler release (`spec`: the rest)
    mechanism: str = EMBEDDED  # of mechanism.REGISTRY (a plugin: `object` is what the runtime loads)
    # A spec the tool writes per compile (`spec` is then ""): the main table's, then each `[[calls]]`'s
    declared: tuple[spec_gen.Declaration, ...] = ()

    @property
    def kind(self) -> str:
        """What its dispatches count as in a gap: its first op kind, else "kernel"."""
        return self.op_kinds[0] if self.op_kinds else "kernel"

    @property
    def generated(self) -> bool:
        return bool(self.declared)

    def spec_for(self, release: str) -> str:
        if self.generated:
            return GENERATED
        return next((w.file for w in self.spec_windows if w.holds(release)), self.spec)

    def spec_files(self) -> tuple[str, ...]:
        if self.generated:
            return ()
        return tuple(dict.fromkeys([self.spec, *(w.file for w in self.spec_windows)]))

    def shown_directory(self, cwd: Optional[Path] = None) -> str:
        """The directory relative to the working directory or the checkout, else as given: never this
        machine's absolute path."""
        resolved = self.directory.resolve()
        for root in (Path(cwd or Path.cwd()).resolve(), _repository()):
            if root is not None and resolved.is_relative_to(root):
                return resolved.relative_to(root).as_posix() or "."
        return str(self.directory)

    def compile_flags(self, release: str = "") -> list[str]:
        """What a compile adds to swap the kernel in, as a user gives it."""
        at, spec = self.shown_directory(), self.spec_for(release) if release else self.spec
        return [*self.requires_flags, *mechanisms.of(self.mechanism).compile_flags(f"{at}/{spec}", at)]

    def with_flags(self, flags: Sequence[str], release: str = "") -> list[str]:
        """`flags` with the kernel's after them, each said once."""
        return [*flags, *(f for f in self.compile_flags(release) if f not in flags)]

    def arm_flags(self, flags: Sequence[str], release: str = "") -> dict[str, list[str]]:
        """A kernel arm's flags as a sitting keeps them: iree-compile's and a plugin's `kernel_run`."""
        run = self.load_flags()
        return {"flags": self.with_flags(flags, release), **({"kernel_run": run} if run else {})}

    def load_flags(self) -> list[str]:
        """What the runtime tools add to run the kernel's modules: a plugin, then its `run_flags`."""
        built = f"{self.shown_directory()}/{self.object}"
        return [*mechanisms.of(self.mechanism).load_flags(built), *self.run_flags]

    def for_model(self, model: str, models: Optional[Sequence[str]] = None) -> bool:
        """Meant for `model`, its export variant or recipe; `models`: a declaration's, not its own."""
        models = self.models if models is None else models
        base = split_variant(model.partition(recipes.SEP)[0])[0]
        return not models or model in models or base in models

    def source_digest(self) -> str:
        """What decides the object besides target and compiler (headers too: a source may include one)."""
        files = sorted({*self.sources, *(p.name for p in self.directory.glob("*.h") if p.is_file())})
        fields = {
            "sources": {f: file_sha256(self.directory / f) for f in files},
            "cflags": list(self.cflags),
            "object": self.object,
        }
        return digest({**fields, **mechanisms.recorded(self)})  # an embedded kernel's: what it always was

    def spec_digest(self) -> str:
        """Every spec's content and window; a generated spec: its declaration and the generator's code."""
        if self.generated:
            made_by = ("kernel/iree/spec_gen", "kernel/iree/spec_mlir", "iree/ir_ops", "iree/torch_ops")
            generator = digest([file_sha256(Path(__file__).parents[1] / f"{f}.py") for f in made_by])
            declared = {"declared": [repr(d) for d in self.declared], "generator": generator}
            return digest({**declared, **mechanisms.recorded(self)})
        if not self.spec_windows:  # the digest kernels without windows have always had
            return file_sha256(self.directory / self.spec)
        specs = {f: file_sha256(self.directory / f) for f in self.spec_files()}
        return digest({"specs": specs, "windows": [[w.file, w.since, w.before] for w in self.spec_windows]})


def _repository() -> Optional[Path]:
    """The checkout this package runs from, None for an installed wheel."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() else None


def ir_command(model: str, release: str, profile: str, directory: str) -> str:
    """The `iree-matrix kernel ir` command a `kernel-not-applied` compile suggests."""
    import shlex

    kernel = shlex.quote(directory)
    return f"iree-matrix kernel ir {model} --release {release} --profile {profile} --kernel {kernel}"


def name_problem(name: str) -> Optional[str]:
    """Why `name` is no kernel's name (None: it is one): job ids and labels carry it."""
    named = _NAME_RE.fullmatch(name) and len(name) <= 64
    return None if named else f"expected {_KEYS['name'][1]}, at most 64"


def find(loaded: Mapping[str, Kernel], name: str) -> Kernel:
    """The kernel a cell names, among the matrix's."""
    if (found := loaded.get(name)) is None:
        raise StageFailure("unknown-kernel", f"no kernel {name!r} in the matrix", cacheable=False)
    return found


def load(where: Path) -> Kernel:
    """The kernel of a directory (or of its kernel.toml given itself), checked."""
    where = Path(where)
    toml = where if where.name == KERNEL_FILE else where / KERNEL_FILE
    if input_files.is_link_loop(where):  # exists() says False of it: "no such directory" misled
        raise KernelError(
            f"{where}: a loop of symbolic links (each names the next): name the kernel's directory itself"
        )
    if not where.exists():
        raise KernelError(f"{where}: no such kernel directory (a kernel is a directory with a {KERNEL_FILE})")
    if where.name != KERNEL_FILE and not where.is_dir():  # said as its kernel.toml missing, before
        raise KernelError(
            f"{where}: not a directory (a kernel is a directory with a {KERNEL_FILE}: name that directory)"
        )
    try:
        raw = input_files.read_bounded(toml, _MAX_BYTES)
    except input_files.InputFileError as exc:
        if exc.missing:
            raise KernelError(f"{toml}: no such file (a kernel directory holds a {KERNEL_FILE})") from None
        raise KernelError(f"{toml}: {exc.reason}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff"))  # a BOM, as a matrix file's
    except UnicodeDecodeError as exc:
        raise KernelError(f"{toml}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise KernelError(f"{toml}: not valid TOML: {exc}") from None
    return parse(data, toml)


def parse(data: Mapping[str, Any], toml: Path) -> Kernel:
    """A kernel.toml's tables (read from `toml`) checked into a `Kernel`."""
    directory = toml.parent

    def error(key: str, value: Any, why: str) -> KernelError:
        # A value cut to 200 characters, its length said: a name of 20,000 was echoed whole.
        shown = repr(value)
        cut = f"{excerpts.clip(shown, 200)}({len(shown):,} characters)" if len(shown) > 200 else shown
        return KernelError(f"{toml}: {key} = {cut}: {why}")

    for key, value in data.items():
        if key not in _KEYS:
            known = ", ".join(_KEYS)
            raise KernelError(f"{toml}: unknown key {excerpts.clip(repr(key), 200)} (the keys are {known})")
        if any("\0" in text for text in _strings(value)):  # was "internal: ValueError" at the build
            raise error(key, value, "holds a NUL byte (\\u0000): no flag, name or file has one")
        kind, expected = _KEYS[key]
        if not isinstance(value, kind) or (
            kind is list and key not in ("specs", "calls") and not all(isinstance(v, str) for v in value)
        ):
            raise error(key, value, f"expected {expected}")
    for key in _REQUIRED:
        if key not in data:
            raise KernelError(f"{toml}: no {key!r} (a kernel names {', '.join(_REQUIRED)})")
    if name_problem(name := data["name"]):
        raise error("name", name, f"expected {_KEYS['name'][1]}")
    if not (sources := list(dict.fromkeys(data["sources"]))):
        raise error("sources", data["sources"], "expected at least one C file")
    for source in sources:
        _inside(directory, source, "sources", error, _SOURCE_RE, "a .c file in the kernel's directory")
    if not (main := _declared(data, error, toml, models := data.get("models", []))):
        _inside(directory, data["spec"], "spec", error, None, "a file in the kernel's directory")
    if "calls" in data and not main:
        raise error("calls", data["calls"], "[[calls]] add to a generated spec: give function and replaces")
    declared = [spec_gen.Declaration(name, **main)] if main else []
    for n, call in enumerate(data.get("calls", [])):
        if not isinstance(call, Mapping) or set(call) - _CALL_KEYS or "replaces" not in call:
            raise error(f"calls[{n}]", call, "expected a table of function, replaces = {...} and args")
        named = lambda key, *said, at=f"calls[{n}].": error(at + key, *said)  # noqa: E731 (its keys named in it)
        called = _declared(call, named, toml, models)
        declared.append(spec_gen.Declaration(name, **called, table=f"calls[{n}]"))
    if (how := mechanisms.REGISTRY.get(mechanism := data.get("mechanism", EMBEDDED))) is None:
        raise error("mechanism", mechanism, f"expected one of {', '.join(map(repr, mechanisms.REGISTRY))}")
    windows = _windows(data.get("specs", []), directory, error)
    specs = dict.fromkeys([data["spec"], *(w.file for w in windows)]) if not declared else {}
    try:
        object_name = how.object_name(data.get("object"), name)
        for spec in specs:
            how.check_spec(spec, (directory / spec).read_text("utf-8", "replace"), object_name)
    except mechanisms.Refused as refused:
        key, value, why = refused.args
        raise (KernelError(f"{toml}: {why}") if value is None else error(key, value, why)) from None
    checks = {
        "cflags": flag_safety.c_flag_problem,
        "requires_flags": flag_safety.compile_flag_problem,
        "run_flags": run_flag_problem,
        "op_kinds": opkinds.problem,
    }
    for key, problem in checks.items():
        for flag in data.get(key, []):
            if (why := problem(flag)) is not None:
                raise error(key, flag, why)
    _regular_files_only(directory)
    return Kernel(
        name=name,
        directory=directory,
        sources=tuple(sources),
        spec=data.get("spec", ""),
        object=object_name,
        **{key: tuple(data.get(key, [])) for key in ("cflags", "requires_flags")},
        **{key: tuple(dict.fromkeys(data.get(key, []))) for key in ("models", "op_kinds", "run_flags")},
        spec_windows=windows,
        mechanism=mechanism,
        declared=tuple(declared),
    )


def _strings(value: Any) -> list[str]:
    """Every string in a kernel.toml's value (its tables' keys too)."""
    if isinstance(value, (Mapping, list)):  # a table: its keys and values
        inner = [*value, *(value.values() if isinstance(value, Mapping) else ())]
        return [s for v in inner for s in _strings(v)]
    return [value] if isinstance(value, str) else []


_MAX_GLOBS = _MAX_NAME = 256  # a generated spec's module paths: how many, how long (a function's name too)
_ARGS = 'expected "input:N" (.permute(1, 0)), "output", a size ("input:0[2]"; [-1]: the last), "workgroup.id"'
_ARG = r"(input:\d+|output)(\[(\d+|-1)\]|\.permute\(\d+(, ?\d+)*\))?|\d+|workgroup\.(id|count)"
_MAX_ARG = 2**31 - 1  # an index or a size the generated spec writes as an i32 or index constant


def _declared(data: Mapping[str, Any], error: Any, toml: Path, models: Sequence[str]) -> dict[str, Any]:
    """A spec for the tool to write (`function` and `replaces`, optionally for some `models` only); {}
    for a hand-written spec."""
    if not isinstance(replaces := data.get("replaces"), Mapping) and "function" not in data:
        if "spec" not in data:
            raise KernelError(
                f"{toml}: no 'spec' (a kernel names its transform spec, or lets the tool write it: "
                'function = "my_kernel" and replaces = { module = "layer.path" })'
            )
        return {}
    if isinstance(replaces, Mapping) and (only := replaces.get("models")) is not None:
        fits = isinstance(only, list) and all(isinstance(m, str) and m in (models or only) for m in only)
        if not fits or not only:
            said = f"models: expected a list of the models it is for, of the kernel's ({', '.join(models)})"
            raise error("replaces", dict(replaces), said if models else "models: expected a list of models")
        replaces = {k: v for k, v in replaces.items() if k != "models"}
    if isinstance(replaces, Mapping) and "op" in replaces:
        by = _by_op(replaces, error)
    elif isinstance(replaces, Mapping) and len(set(replaces) - {"together"}) == 1 <= len(replaces) <= 2:
        by = _by_module(replaces, error)
    else:
        raise error("replaces", replaces, f"expected one of {_REPLACES}")
    function = str(data.get("function", ""))
    if not re.fullmatch(r"[A-Za-z_]\w*", function) or len(function) > _MAX_NAME:
        raise error("function", data.get("function"), "expected the C function the generated spec calls")
    for arg in data.get("args", []):
        if not re.fullmatch(_ARG, str(arg)):
            raise error("args", arg, _ARGS)
        if any(int(n) > _MAX_ARG for n in re.findall(r"\d+", str(arg))):  # was MLIR's "out of range"
            raise error("args", arg, f"out of range: each number in args is at most {_MAX_ARG}")
    for key in ("spec", "specs"):
        if key in data:
            raise error(key, data[key], "a kernel whose spec the tool writes (replaces = {...}) names none")
    fields = {"function": data["function"], "args": tuple(str(a) for a in data.get("args", ()))}
    return {**by, **fields, **({"models": tuple(dict.fromkeys(only))} if only else {})}


def _by_module(replaces: Mapping[str, Any], error: Any) -> dict[str, Any]:
    """`replaces = { module = "glob" or [...] }` or `{ class = "Name" }`, each path checked."""
    module = "module" in replaces  # whose modules may be one instance: `together = true` (or not said)
    if set(replaces) - {"module", "class", "together"} or replaces.get("together", module) is not module:
        raise error("replaces", dict(replaces), f"expected one of {_REPLACES}; together = true: modules")
    value = replaces.get("module", replaces.get("class"))
    globs = value if isinstance(value, list) and "module" in replaces else [value]  # module: or a list
    if not globs or not all(isinstance(g, str) and g for g in globs):
        raise error("replaces", dict(replaces), "expected a non-empty string (a module: or a list of them)")
    if any(re.search(r"\s", g) for g in globs):  # was "not a non-empty string" for a line break
        raise error("replaces", dict(replaces), "a module path holds no space, tab or line break")
    if len(globs) > _MAX_GLOBS or any(len(g) > _MAX_NAME for g in globs):  # 400,000 characters were stored
        raise error(
            "replaces", dict(replaces), f"at most {_MAX_GLOBS} module paths of {_MAX_NAME} characters each"
        )
    # together: the modules' ops are one instance, swapped for one call (a Linear and its activation)
    return {
        "module": " ".join(globs) if "module" in replaces else "",
        "klass": replaces.get("class", ""),
        **({"together": True} if "together" in replaces else {}),
    }


def _by_op(replaces: Mapping[str, Any], error: Any) -> dict[str, Any]:
    """`replaces = { op = "aten.gelu", approximate = "tanh" }`: the op and its filters (as str)."""
    if (op := replaces["op"]) not in torch_ops.OPS:
        raise error("replaces", dict(replaces), f"op: expected one of {', '.join(torch_ops.OPS)}")
    filters, said = torch_ops.OPS[op][1], {}
    for key, value in ((k, v) for k, v in replaces.items() if k != "op"):
        if key not in filters:
            raise error("replaces", dict(replaces), f"{op} takes the filters: {', '.join(filters) or 'none'}")
        if not (wanted := torch_ops.VALUES[key])[1](value):
            raise error("replaces", dict(replaces), f"{key} = {value!r}: expected {wanted[0]}")
        # kernel = [3, 3] as "3x3", depthwise = true as "true", dim = -1 as "-1", eps = 1e-5 as "1e-05"
        said[key] = "x".join(map(str, value)) if isinstance(value, list) else json.dumps(value).strip('"')
    return {"op": op, "where": tuple(sorted(said.items()))}


def run_flag_problem(flag: str) -> Optional[str]:
    """Why `flag` is no runtime flag a kernel may ask its runs to pass (None: it is one)."""
    if flag.startswith("--iree-"):
        return "an iree-compile flag: it belongs in requires_flags"
    # The bundle runner checks a manifest's by the first too.
    return custom_dispatch.runtime_flag_problem(flag) or flag_safety.run_flag_problem(flag)


def run_flags_in(command: Sequence[str]) -> list[str]:
    """The kernel `run_flags` a run's recorded command passes, for what times its module again."""
    return [a for a in command if run_flag_problem(a) is None]


def _windows(raw: list[Any], directory: Path, error: Any) -> tuple[SpecWindow, ...]:
    """`[[specs]]` checked: each a table of a file in the directory and a window of releases."""
    windows = []
    for n, table in enumerate(raw):
        where = f"specs[{n}]"
        if not isinstance(table, Mapping):
            raise error("specs", table, f"expected {_KEYS['specs'][1]}")
        if sorted(set(table) - set(_WINDOW_KEYS)) or not all(isinstance(v, str) for v in table.values()):
            raise error(where, dict(table), f"expected keys {', '.join(_WINDOW_KEYS)}, each a string")
        if "file" not in table:
            raise error(where, dict(table), 'no file (e.g. file = "spec-old.mlir")')
        _inside(directory, table["file"], f"{where}.file", error, None, "a file in the kernel's directory")
        for end in ("from", "before"):
            if end in table and not versions.is_valid(table[end]):
                raise error(f"{where}.{end}", table[end], "expected an IREE release, e.g. 3.4.0")
        if "from" not in table and "before" not in table:
            raise error(where, dict(table), 'no window: give from = "X" and/or before = "Y" (releases)')
        window = SpecWindow(table["file"], table.get("from", ""), table.get("before", ""))
        if window.since and window.before and not window.holds(window.since):
            raise error(where, dict(table), "an empty window: `from` must come before `before`")
        windows.append(window)
    return tuple(windows)


def _regular_files_only(directory: Path) -> None:
    """Regular files and folders only, 16 MiB in all, each readable by all (the store copies them so)."""
    total = 0
    for path, found in bubblewrap.walk(directory.resolve()):
        if stat.S_ISLNK(found.st_mode):
            try:
                found = path.stat()
            except OSError:
                raise KernelError(f"{path}: a link to nothing; a kernel holds regular files") from None
        if stat.S_ISREG(found.st_mode):
            if (why := shared_files.problem(path)) is not None:
                raise KernelError(f"{why} (a kernel's files are copied into the store, readable by all)")
            total += found.st_size
        elif not stat.S_ISDIR(found.st_mode):
            raise KernelError(f"{path}: not a regular file; a kernel's directory holds regular files only")
    if total > _MAX_DIRECTORY_BYTES:
        raise KernelError(f"{directory}: {total} bytes; a kernel's directory holds at most 16 MiB")


def _inside(directory: Path, relative: str, key: str, error: Any, pattern: Any, expected: str) -> None:
    path = directory / relative
    outside = relative.startswith("/") or ".." in Path(relative).parts
    if outside or (pattern and not pattern.fullmatch(relative)):
        raise error(key, relative, f"expected {expected}")
    if path.is_dir():  # was "no such file", as if it were missing
        raise error(key, relative, f"{path} is a directory; expected {expected}")
    if not path.is_file():
        raise error(key, relative, f"no such file: {path}")


def load_all(paths: Sequence[tuple[Union[Path, Kernel], str]]) -> dict[str, Kernel]:
    """Kernels by name from (path or Kernel, who named it) pairs; two directories of one name refused."""
    found: dict[str, Kernel] = {}
    for path, who in paths:
        try:
            kernel = path if isinstance(path, Kernel) else load(path)
        except KernelError as exc:
            raise KernelError(f"{who}: {exc}") from None
        other = found.get(kernel.name)
        if other is not None and other.directory.resolve() != kernel.directory.resolve():
            raise KernelError(
                f"{who}: two kernels are both called {kernel.name!r} "
                f"({other.directory} and {kernel.directory})"
            )
        found[kernel.name] = kernel
    return found
