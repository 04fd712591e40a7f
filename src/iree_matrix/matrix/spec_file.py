"""Matrix files parsed and validated into a `MatrixSpec`: the axes' product, minus `[[exclude]]`, plus
`[[include]]`. Every error is one line naming the file, the key and the bad value."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from iree_matrix.core import input_files
from iree_matrix.core.errors import SpecError
from iree_matrix.core.model.configuration import COMBINE
from iree_matrix.core.toml_text import tomllib
from iree_matrix.iree import compiler_options, targets, versions
from iree_matrix.iree.flags import BUILTIN_PROFILES, OPT_LEVELS, Profile, with_needs
from iree_matrix.kernel import kernel_cells
from iree_matrix.kernel import kernels as kernel_files
from iree_matrix.matrix import old_spellings, releases, schema, spec_tables, torch_ranges
from iree_matrix.matrix.models import ModelError, ModelRef, resolve
from iree_matrix.matrix.spec import (
    AXES,
    FORMS,
    SAME,
    Cell,
    MatrixSpec,
    lowering_compiler,
    onnx_opset,
    with_profiles,
)
from iree_matrix.matrix.spec_tables import PYTHON_RE as _PYTHON_RE
from iree_matrix.matrix.spec_tables import Where as _Where
from iree_matrix.matrix.spec_tables import as_list as _as_list

_VERSION_AXES = ("torch", "turbine", "compiler", "runtime")
_AXIS_DEFAULTS = {"arch": ("x86_64",), "profiles": ("default",), "forms": ("text",)}
# A name that becomes part of job ids, labels and file names (profiles, models): what a job id may
# hold, so `--list` prints one id a line and `--select` globs can name it (models also take "@").
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# A model's name may end in its export recipe (`tiny~fx+decompose`).
_MODEL_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*(?:~[a-z][a-z-]*(?:\+[a-z][a-z-]*)*)?")
_NAME_RULE = "names may hold letters, digits and . _ - (they become part of job ids); rename it"


# A matrix file is a few kB, nested 4 deep at most: beyond these it is not one (tomllib recursed).
MAX_FILE_BYTES = 4 << 20
MAX_NESTING = 16


def load(path: Path, models: Sequence[str] = (), resolver: Optional[releases.Resolver] = None) -> MatrixSpec:
    """`models` (from `--model`, relative to the working directory) replaces the file's models axis."""
    return parse(read(path), Path(path), models, resolver)


def read(path: Path) -> dict[str, Any]:
    """The matrix file's tables as TOML gives them, not yet checked (`parse` does, after settings merge)."""
    path = Path(path)
    try:  # a regular file, read to the bound: never a device or FIFO (its size says 0)
        raw = input_files.read_bounded(path, MAX_FILE_BYTES)
    except input_files.InputFileError as exc:
        if exc.missing:
            raise SpecError(f"{path}: no such matrix file (the shipped ones are in matrix/)") from None
        if exc.too_large:
            raise SpecError(
                f"{path}: too large for a matrix file (at most {MAX_FILE_BYTES >> 20} MiB; the shipped "
                "ones are a few kB): is this the right file?"
            ) from None
        raise SpecError(f"{path}: {exc.reason}; a matrix file is a TOML file (as in matrix/)") from None
    try:
        # A byte-order mark (what Windows' Notepad writes first) is no part of the TOML.
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(_too_deep(path, "arrays or inline tables")) from None
    if (deep := _deepest(data, MAX_NESTING)) is not None:
        raise SpecError(_too_deep(path, f"'{deep}'"))
    return data


def _too_deep(path: Path, what: str) -> str:
    return (
        f"{path}: {what} nested more than {MAX_NESTING} levels deep (lists or tables inside each other); "
        "a matrix file needs 4: fix the brackets"
    )


def _deepest(data: Mapping[str, Any], limit: int) -> Optional[str]:
    """The top-level key whose value is nested more than `limit` levels deep, if one is."""
    stack: list[tuple[Any, str, int]] = [(value, str(key), 1) for key, value in data.items()]
    while stack:
        value, key, depth = stack.pop()
        if depth > limit:
            return key
        if isinstance(value, Mapping):
            stack.extend((v, key, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, key, depth + 1) for v in value)
    return None


def parse(
    data: Mapping[str, Any],
    path: Path,
    models: Sequence[str] = (),
    resolver: Optional[releases.Resolver] = None,
    profiles: Sequence[str] = (),
    own_file: bool = False,
    kernels: Sequence[kernel_files.Kernel] = (),
) -> MatrixSpec:
    """`resolver` resolves release selectors (without one they are refused). `profiles` replace every
    cell's profile. Under `models` a command's own file's includes add cells of those models only."""
    where = _Where(path)
    data = old_spellings.current(data, where.error)
    schema.check(data, path)  # every key known, the required ones there, each value of its type

    own_profiles, knobs = _own_profiles(data, where)
    defined = {**BUILTIN_PROFILES, **own_profiles}
    known = _Known(profiles=tuple(defined), base=path.parent, resolver=resolver)
    known.supported_torch = spec_tables.parse_supported_torch(data.get("supported_torch", {}), where)

    axes = {"python": _axis_values(data, "python", where, known)}
    if resolver is not None:
        resolver.pythons = tuple(axes["python"])
    axes.update({n: _axis_values(data, n, where, known) for n in AXES if n not in (*axes, "runtime")})
    if models:
        known.base = Path.cwd()
        checked = [_check_value("models", m, "--model", where, known) for m in models]
        axes["models"] = _canonical("models", checked, known)
        known.base = path.parent
    axes["runtime"] = _runtime_values(data, "runtime", where, known)

    excludes = [_rule(r, where, f"exclude[{i}]", known) for i, r in enumerate(data.get("exclude", []))]
    includes = [_rule(r, where, f"include[{i}]", known) for i, r in enumerate(data.get("include", []))]

    every = list(_expand(axes, known, where))
    for i, rule in enumerate(excludes):
        # Like an include that adds nothing, an exclude that removes nothing is a typo. Not under
        # --model, which replaces the models axis the file's rules were written against.
        if not models and not any(_matches(c, rule, known, where) for c in every):
            raise SpecError(f"{path}: exclude[{i}] = {rule!r} matches no cell; fix or remove it")
    cells = [c for c in every if not any(_matches(c, rule, known, where) for rule in excludes)]
    for i, rule in enumerate(includes):
        if models and not own_file and "models" in rule:
            rule = {**rule, "models": [m for m in rule["models"] if m in axes["models"]]}
            if not rule["models"]:
                continue
        if not (added := list(_expand({**axes, **rule}, known, where))):
            raise SpecError(f"{path}: include[{i}] adds no cell")
        cells.extend(added)
    if not cells:
        raise SpecError(f"{path}: the exclude rules remove every cell; nothing to run")
    named, with_kernels = kernel_cells.parse(data.get("kernels", []), where, kernels, cells)
    unique = tuple(sorted(set(cells) | set(with_kernels)))
    _check_flags(unique, own_profiles, tuple(knobs), where)
    # `[benchmark]`'s opt-in globs are checked against the cells' functions (not under --model).
    units = None if models else spec_tables.function_profiles(unique, known.refs, known.profiles)

    matrix = MatrixSpec(
        path=path,
        cells=unique,
        # The profiles the cells use, and every one the file defines (`tune --profiles` may pick it).
        profiles={**{name: defined[name] for name in sorted({c.profile for c in unique})}, **own_profiles},
        timeouts=spec_tables.parse_timeouts(data.get("timeouts", {}), where),
        benchmark=spec_tables.parse_benchmark(data.get("benchmark", {}), where, units),
        description=str(data.get("description", "")),
        images=spec_tables.parse_images(data.get("images", {}), where),
        models={name: known.refs[name] for name in sorted({c.model for c in unique})},
        weights=_parse_weights(data.get("weights", {}), where, known),
        peers=spec_tables.parse_peers(data.get("peers", []), where),
        iree_sources=spec_tables.parse_iree_source(data.get("iree_source", {}), where),
        redefined=tuple(sorted(set(own_profiles) & set(BUILTIN_PROFILES))),
        supported_torch=known.supported_torch,
        compiler_python=spec_tables.parse_compiler_python(data.get("compiler_python", ""), where),
        interpreters=spec_tables.parse_interpreters(data.get("interpreters", {}), where),
        search_knobs=tuple(knobs),
        limits=spec_tables.parse_limits(data.get("limits", {}), where),
        kernels=named,
    )
    return with_profiles(matrix, profiles) if profiles else matrix


@dataclasses.dataclass
class _Known:
    profiles: tuple[str, ...]
    base: Path  # what model paths are relative to
    resolver: Optional[releases.Resolver] = None
    refs: dict[str, ModelRef] = dataclasses.field(default_factory=dict)  # name -> model
    by_text: dict[str, ModelRef] = dataclasses.field(default_factory=dict)
    supported_torch: dict[str, str] = dataclasses.field(default_factory=dict)

    def supported(self, mode: str, turbine: str, where: _Where) -> list[str]:
        if self.resolver is None:
            raise where.error("torch", mode, "needs the package index (plan it with the CLI)")
        try:
            known = self.resolver.releases("torch").versions
            return torch_ranges.supported(turbine, known, mode, self.supported_torch)
        except (torch_ranges.RangeError, releases.ReleaseError) as exc:
            raise SpecError(f"{where.path}: torch = {mode!r}: {exc}") from None

    def same(self, compiler: str) -> str:
        return self.resolver.own_runtime(compiler) if self.resolver is not None else compiler

    def model(self, text: str) -> ModelRef:
        if text not in self.by_text:
            ref = resolve(text, self.base)
            if (other := self.refs.get(ref.name)) is not None and other.file != ref.file:
                raise ModelError(f"two models are both called {ref.name!r} ({other.file} and {ref.file})")
            self.by_text[text] = self.refs[ref.name] = ref
        return self.by_text[text]


def _check_value(axis: str, value: str, key: str, where: _Where, known: _Known) -> str:
    if axis == "torch" and value in torch_ranges.MODES:
        return value
    lowering = lowering_compiler(value) if axis == "forms" and value not in FORMS else None
    if lowering is not None and not versions.is_valid(lowering):
        why = 'expected "linalg:<IREE release>" (the release that lowers it), e.g. "linalg:20231113.707"'
        raise where.error(key, value, why)
    elif lowering is None and axis == "forms" and value not in FORMS:
        if (opset := onnx_opset(value)) is None:
            raise where.error(
                key, value, f"unknown form (known: {', '.join(FORMS)}, onnx, onnx:<opset>, linalg:<release>)"
            )
        if not 7 <= opset <= 30:
            raise where.error(key, value, "an ONNX opset between 7 and 30 (torch.onnx.export's range)")
    if axis in _VERSION_AXES and (problem := releases.selector_problem(value)):
        raise where.error(key, value, problem)
    if axis == "python" and not _PYTHON_RE.fullmatch(value):
        raise where.error(key, value, 'expected a Python minor version such as "3.11"')
    if axis == "arch":
        try:
            targets.parse(value)
        except targets.UnknownTarget as exc:
            raise where.error(key, value, str(exc)) from None
    if axis == "models":
        try:
            name = known.model(value).name
        except ModelError as exc:
            raise where.error(key, value, str(exc)) from None
        if not _MODEL_NAME_RE.fullmatch(name):
            raise where.error(
                key, value, f"its name {name!r} does not fit a job id: {_NAME_RULE} (or the factory)"
            )
    if axis == "profiles" and value not in known.profiles:
        names = ", ".join(known.profiles)
        raise where.error(key, value, f"unknown profile (known: {names}; define more under [profile.NAME])")
    return value


def _axis_values(data: Mapping[str, Any], axis: str, where: _Where, known: _Known) -> list[str]:
    return _values(data, axis, axis, where, known) if axis in data else list(_AXIS_DEFAULTS[axis])


def _values(table: Mapping[str, Any], axis: str, key: str, where: _Where, known: _Known) -> list[str]:
    """An axis's values in `table` (the file's, or a rule's) checked, expanded and spelled one way."""
    if axis == "runtime":
        return _runtime_values(table, key, where, known)
    return _canonical(axis, _expanded(axis, _as_list(table[axis]), key, where, known), known)


def _expanded(axis: str, values: Sequence[str], key: str, where: _Where, known: _Known) -> list[str]:
    """Each value checked; a release selector replaced by the releases it means (oldest first)."""
    out: list[str] = []
    for value in values:
        _check_value(axis, value, key, where, known)
        if axis not in _VERSION_AXES or (axis == "torch" and value in torch_ranges.MODES):
            out.append(value)  # "supported" is resolved per turbine release, in _expand
        elif known.resolver is None:
            if releases.is_selector(value):
                raise where.error(
                    key, value, "a release selector needs the package index (plan it with the CLI)"
                )
            out.append(value)
        else:
            try:
                out.extend(known.resolver.versions(axis, value))
            except releases.ReleaseError as exc:
                raise SpecError(f"{where.path}: {exc}") from None
    return out


def _canonical(axis: str, values: list[str], known: _Known) -> list[str]:
    """One spelling per value (two spellings of one target, a model's path and its name)."""
    if axis == "arch":
        return list(dict.fromkeys(targets.parse(v).label for v in values))
    if axis == "models":
        return list(dict.fromkeys(known.model(v).name for v in values))
    if axis in _VERSION_AXES:  # "3.9" and "3.9.0" are one release: one environment
        by_version: dict[Any, str] = {}
        for v in values:
            by_version.setdefault(_release_identity(v), v)
        return list(by_version.values())
    return values


def _release_identity(value: str) -> Any:
    if value == SAME or value in torch_ranges.MODES:
        return value
    if versions.is_source_runtime(value):
        release, build_options = versions.parse_source_runtime(value)
        return ("src", versions.Version(release), build_options)
    return versions.Version(value)


def _runtime_values(table: Mapping[str, Any], key: str, where: _Where, known: _Known) -> list[str]:
    values = _as_list(table.get("runtime", SAME))
    built = []
    for v in values:
        if versions.is_source_runtime(v):
            try:
                built.append(versions.source_runtime(*versions.parse_source_runtime(v)))
            except ValueError as exc:
                raise where.error(key, v, str(exc)) from None
        elif v != SAME and (problem := releases.selector_problem(v)):
            also = f' nor "{SAME}" (the compiler\'s own version) nor "src:<release>" (built from source)'
            raise where.error(key, v, problem + also)
    resolved = [SAME] if SAME in values else []
    plain = [v for v in values if v != SAME and not versions.is_source_runtime(v)]
    resolved += _expanded("runtime", plain, key, where, known)
    return _canonical("runtime", resolved + built, known)


def _rule(table: Mapping[str, Any], where: _Where, name: str, known: _Known) -> dict[str, list[str]]:
    if not table:
        raise SpecError(f"{where.path}: {name} is empty; name at least one axis")
    return {axis: _values(table, axis, f"{name}.{axis}", where, known) for axis in table}


def _expand(axes: Mapping[str, list[str]], known: _Known, where: _Where) -> Iterable[Cell]:
    names = list(AXES)
    for combo in itertools.product(*(axes[n] for n in names)):
        values = {AXES[n]: v for n, v in zip(names, combo)}
        if values["runtime"] == SAME:
            values["runtime"] = known.same(values["compiler"])
        torches = [values["torch"]]
        if values["torch"] in torch_ranges.MODES:
            torches = known.supported(values["torch"], values["turbine"], where)
        yield from (Cell(**{**values, "torch": torch}) for torch in torches)


def _matches(cell: Cell, rule: Mapping[str, list[str]], known: _Known, where: _Where) -> bool:
    for axis, allowed in rule.items():
        value = getattr(cell, AXES[axis])
        if axis == "runtime":
            allowed = [known.same(cell.compiler) if a == SAME else a for a in allowed]
        if axis == "torch":
            allowed = [
                t
                for a in allowed
                for t in (known.supported(a, cell.turbine, where) if a in torch_ranges.MODES else [a])
            ]
        if value not in allowed:
            return False
    return True


def _own_profiles(data: Mapping[str, Any], where: _Where) -> tuple[dict[str, Profile], dict[str, Profile]]:
    """The file's profiles and search knobs together (each knob's `needs` resolved against the built-in
    and the file's profiles, their flags folded in), and the knobs alone."""
    own = _parse_profiles(data.get("profile", {}), where)
    # `[search.knobs.NAME]` tables (the keys of a `[profile.NAME]`), or `NAME = ["--flag", ...]`.
    bodies = data.get("search", {}).get("knobs", {}).items()
    tables = {n: {"flags": b} if isinstance(b, list) else b for n, b in bodies}
    knobs = _parse_profiles(tables, where, "search.knobs")
    if clash := sorted(set(knobs) & set(own)):
        raise where.error(f"search.knobs.{clash[0]}", clash[0], "also a [profile.NAME]: name the knob once")
    profiles = {**own, **knobs}
    for name, p in profiles.items():
        for need in p.needs:
            if need not in profiles and need not in BUILTIN_PROFILES:
                known = ", ".join(sorted({*profiles, *BUILTIN_PROFILES}))
                raise where.error(f"{name}.needs", need, f"unknown knob (known: {known})")
    try:
        return with_needs(profiles, BUILTIN_PROFILES), knobs
    except ValueError as exc:
        raise SpecError(f"{where.path}: {exc}") from None


def _check_flags(
    cells: Sequence[Cell], own: Mapping[str, Profile], knobs: Sequence[str], where: _Where
) -> None:
    """Refuse at plan time a flag of the file's profiles that a release it compiles with lacks, then a
    `target_cpu` that is no x86-64 CPU LLVM knows, for x86_64 cells."""
    keys = {name: f"search.knobs.{name}" if name in knobs else f"profile.{name}" for name in own}
    for name, profile in own.items():
        used_by = {c.compiler for c in cells if name in knobs or c.profile == name}
        for release in sorted(used_by, key=versions.release_order):
            if not profile.applies_to(release):
                continue
            for flag in compiler_options.unknown(release, profile.flags):
                near = compiler_options.nearest(flag, release)
                having = compiler_options.releases_with(flag)
                fix = (
                    f"did you mean {near}?"
                    if near
                    else f'limit it with releases = ">={having[0]}" (the releases that have it)'
                    if having
                    else "no release of the table has it: check the spelling"
                )
                raise where.error(
                    f"{keys[name]}.flags",
                    flag,
                    f"not an option of IREE {release}'s iree-compile (its --help-hidden lists none such); "
                    f"{fix}",
                )
    for name, profile in own.items():
        if profile.target_cpu in (None, "host"):
            continue
        used = [c for c in cells if c.profile == name or name in knobs] or list(cells)
        if not any(_plain_x86_64(c.arch) for c in used):
            continue
        why = targets.x86_64_cpu_problem(profile.target_cpu)
        elsewhere = [a.name for a in targets.ARCHES.values() if profile.target_cpu in a.cpus]
        if why is not None and elsewhere:  # a board's CPU: named by the target, not the profile
            why = (
                f"a CPU of {elsewhere[0]}, and x86_64 cells take this profile; a board's CPU is named "
                f'in arch (arch = ["{elsewhere[0]}:{profile.target_cpu}"]), or leave target_cpu out'
            )
        if why is not None:
            raise where.error(f"{keys[name]}.target_cpu", profile.target_cpu, why)


def _plain_x86_64(arch: str) -> bool:
    """An x86_64 target whose compile takes its CPU from the profile (no board CPU of its own)."""
    target = targets.known(arch)
    return target is not None and target.arch.name == "x86_64" and target.cpu is None


def _parse_profiles(table: Any, where: _Where, section: str = "profile") -> dict[str, Profile]:
    profiles = {}
    for name, body in table.items():
        key = f"{section}.{name}"
        if not _NAME_RE.fullmatch(name) or COMBINE in name:
            raise where.error(section, name, _NAME_RULE + " (and no '+': it joins knobs)")
        opt_level, wanted = body.get("opt_level"), body.get("releases", "")
        if opt_level is not None and opt_level not in OPT_LEVELS:
            raise where.error(f"{key}.opt_level", opt_level, f"expected one of {', '.join(OPT_LEVELS)}")
        try:
            SpecifierSet(wanted)
        except InvalidSpecifier:
            raise where.error(
                f"{key}.releases", wanted, 'expected a version range like ">=3.9.0" or ">=3.3,<3.11"'
            ) from None
        profiles[name] = Profile(
            name=name,
            target_cpu=body.get("target_cpu", "host") or None,
            opt_level=opt_level,
            flags=tuple(body.get("flags", [])),
            description=str(body.get("description", "")),
            needs=tuple(body.get("needs", [])),
            group=body.get("group", ""),
            releases=wanted,
            pairs=tuple(body.get("pairs", [])),
        )
    for name, profile in profiles.items():  # a pair names a knob there is (built in or the file's)
        if unknown := [k for k in profile.pairs if k not in profiles and k not in BUILTIN_PROFILES]:
            raise where.error(
                f"{section}.{name}.pairs", unknown[0], "no such knob (built in or in this file)"
            )
    return profiles


def _parse_weights(table: Any, where: _Where, known: _Known) -> dict[str, Path]:
    """`[weights]`: real weights (a torch state dict) for a model or function, else seeded random ones."""
    weights = {}
    units = {ref.function_name(f) for ref in known.refs.values() for f in ref.functions}
    for unit, value in table.items():
        key = f"weights.{unit}"
        if unit not in units:
            raise where.error(
                key, value, f"no such model or function in this matrix (known: {', '.join(sorted(units))})"
            )
        path = (where.path.parent / value).expanduser().resolve()
        try:  # a device or FIFO is said as what it is (it was "no such file"), and never opened
            input_files.check_regular(path)
        except input_files.InputFileError as exc:
            said = (
                f"no such file: {path}"
                if exc.missing
                else f"{path}: {exc.reason} (weights are a torch state dict file)"
            )
            raise where.error(key, value, said) from None
        weights[unit] = path
    return weights
