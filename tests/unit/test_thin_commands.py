"""Commands are thin and their options are declared once, held by reading the package's source:

- no `add_argument` outside the option declarations (commands/options.py, commands/option_types.py);
- a flag means one thing on every command that takes it (an old spelling, still taken, is said to
  be old), and the flags the README and docs give a command are that command's, in their new names;
- no function in commands/ is over 60 lines, and commands/ is at most 2,400 lines: what a command
  does is a typed function of the answers or running layer (commands/ here is also kernel/commands/,
  the kernel's command, kept with the kernel);
- no command rewrites the namespace argparse gave it: it reads its options into typed settings once.

Each source check is a function of a source tree, also shown failing on a planted violation."""

from __future__ import annotations

import argparse
import ast
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.commands import option_types
from tests.unit import builders, source_tree

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "iree_matrix"
DECLARATIONS = ("commands/options.py", "commands/option_types.py")
MAX_FUNCTION_LINES = 60
MAX_COMMANDS_LINES = 2400
COMMAND_FOLDERS = ("commands", "kernel/commands")  # the command modules' folders


def _files(package: Path, *under: str) -> Iterator[tuple[str, ast.Module, str]]:
    for folder in under or ("",):
        for path in sorted((package / folder).rglob("*.py")):
            text, tree = source_tree.source(path)
            yield path.relative_to(package).as_posix(), tree, text


def raw_add_arguments(package: Path = PACKAGE) -> list[str]:
    """`file:line` of each `add_argument` call outside the option declarations (and the runner a
    bundle carries, bundle_runner/: run.py's own command line, where iree-matrix is not)."""
    return [
        f"{name}:{node.lineno}"
        for name, tree, _ in _files(package)
        if name not in DECLARATIONS and not name.startswith("bundle_runner/")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_argument"
    ]


def long_functions(package: Path = PACKAGE, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """`file:function (lines)` of each function in commands/ longer than `limit` lines."""
    return [
        f"{name}:{node.name} ({node.end_lineno - node.lineno + 1})"
        for name, tree, _ in _files(package, *COMMAND_FOLDERS)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > limit
    ]


def commands_lines(package: Path = PACKAGE) -> int:
    return sum(len(text.splitlines()) for _, _, text in _files(package, *COMMAND_FOLDERS))


def namespace_rewrites(package: Path = PACKAGE) -> list[str]:
    """`file:line` of each write to a parsed namespace (`args.x = ...`, `setattr(args, ...)`) in
    commands/ and cli.py."""
    found = []
    for name, tree, _ in _files(package):
        if not (name.startswith(tuple(f"{folder}/" for folder in COMMAND_FOLDERS)) or name == "cli.py"):
            continue
        for node in ast.walk(tree):
            targets = (
                node.targets if isinstance(node, ast.Assign) else [node.target]
                if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            )  # fmt: skip
            written = [t for t in targets if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)]
            if any(t.value.id in ("args", "namespace", "parsed") for t in written):  # type: ignore[attr-defined]
                found.append(f"{name}:{node.lineno}")
            if (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "args"
            ):  # fmt: skip
                found.append(f"{name}:{node.lineno}")
    return found


def test_no_add_argument_outside_the_option_declarations() -> None:
    assert raw_add_arguments() == []


def test_no_function_in_commands_is_over_60_lines() -> None:
    assert long_functions() == []


def test_commands_are_at_most_2400_lines() -> None:
    assert commands_lines() <= MAX_COMMANDS_LINES


def test_no_command_rewrites_its_parsed_arguments() -> None:
    assert namespace_rewrites() == []


def test_the_source_checks_find_what_is_planted(tmp_path: Path) -> None:
    long_body = "".join(f"    x{i} = {i}\n" for i in range(60))
    package = builders.plant_package(
        tmp_path,
        {
            "commands/options.py": 'def add(p):\n    p.add_argument("--cache")\n',  # the declarations' own
            "commands/search.py": (
                "def add_arguments(parser):\n    parser.add_argument('--rounds', type=int)\n\n\n"
                f"def main(args):\n    args.retime = ['run:*']\n    setattr(args, 'model', [])\n{long_body}"
            ),
            "findings/search.py": f"def descend(args):\n    args.x = 1\n{long_body}",  # not a command's
        },
    )
    assert raw_add_arguments(package) == ["commands/search.py:2"]
    assert long_functions(package) == ["commands/search.py:main (63)"]
    assert namespace_rewrites(package) == ["commands/search.py:6", "commands/search.py:7"]
    assert commands_lines(package) == 2 + 4 + 3 + 60


# --- one meaning per flag ---------------------------------------------------------------------------


def _parsers(
    parser: argparse.ArgumentParser, verb: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every (sub)parser of the command line, named by its verbs (`query model`)."""
    yield verb, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{verb} {name}".strip())


def _flags(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        for flag in action.option_strings:
            yield flag, action


def test_each_flag_means_one_thing_on_every_command() -> None:
    """`--rounds` was the paired rounds (advise, compare, calibrate), the flag search's rounds and
    the recipe search's: now each is its own name, and a search's rounds are its batches
    (docs/glossary.md): `search --rounds` and `--descent-rounds` are said to be the old spellings
    of `--descent-batches`, `--recipe-rounds` of `--recipe-batches`."""
    meanings: dict[str, set[str]] = {}
    for _, parser in _parsers(cli._parser()):
        for flag, action in _flags(parser):
            renamed = isinstance(action, option_types._Renamed)
            if renamed and flag != action.option_strings[0]:
                continue  # an old spelling, said to be old when used
            meanings.setdefault(flag, set()).add(action.dest.removesuffix(option_types._AFTER))
    assert {flag: dests for flag, dests in meanings.items() if len(dests) > 1} == {}
    assert meanings["--rounds"] == {"rounds"} and meanings["--descent-batches"] == {"descent_batches"}
    assert "--descent-rounds" not in meanings and "--recipe-rounds" not in meanings


@pytest.mark.parametrize(
    ("line", "old", "new", "dest", "value"),
    [
        (["search", "--rounds", "2"], "--rounds", "--descent-batches", "descent_batches", 2),
        (["search", "--descent-rounds", "2"], "--descent-rounds", "--descent-batches", "descent_batches", 2),
        (["search", "--reuse-round-1"], "--reuse-round-1", "--reuse-batch-1", "reuse_batch_1", True),
        (
            ["search-recipes", "--recipe-rounds", "1"],
            "--recipe-rounds",
            "--recipe-batches",
            "recipe_batches",
            1,
        ),
    ],
)
def test_the_searches_old_round_spellings_are_taken_and_said(line, old, new, dest, value) -> None:
    args = cli._parser().parse_args(line)
    assert getattr(args, dest) == value and not hasattr(args, "rounds")
    assert option_types.renamed(args) == [f"{old} is now {new} (the same value; {old} will be removed)"]
    today = [*line[:1], new, *line[2:]]
    assert option_types.renamed(cli._parser().parse_args(today)) == []
    assert getattr(cli._parser().parse_args(today), dest) == value
    assert not cli._parser().parse_args(line[:1]).__dict__.get("reuse_batch_1")  # a switch is off untold
    assert cli._parser().parse_args(["compare", "a", "b", "--rounds", "9"]).rounds == 9


def test_the_old_spelling_is_said_once_the_console_is_set_up(capsys, monkeypatch) -> None:
    from iree_matrix.commands import search

    monkeypatch.setattr(search, "main", lambda args: 0)
    assert cli.main(["search", "--descent-rounds", "2"]) == 0
    assert "warning: --descent-rounds is now --descent-batches" in capsys.readouterr().err


def _documented() -> Iterator[tuple[str, str]]:
    """(document, command line) of each `iree-matrix VERB ...` the README and docs show."""
    for doc in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text()
        lines = re.findall(r"`(iree-matrix [^`]+)`", text)
        lines += re.findall(
            r"^\s*(?:\$ )?(?:[A-Z_]+=\S+ )*(?:nice -n \d+ )?(iree-matrix [a-z].*)$", text, re.M
        )
        for line in lines:
            for part in re.split(r"&&|;", line.split(" #")[0]):  # `merge ... && iree-matrix report ...`
                if part.strip().startswith("iree-matrix "):
                    yield doc.name, part.strip()


def test_every_flag_the_docs_give_a_command_is_that_commands() -> None:
    """A renamed or removed option would leave the README's and docs' commands failing; a flag a
    document gives a command is one that command's parser takes, by its current name."""
    verbs = dict(_parsers(cli._parser()))
    shown = list(_documented())
    assert len(shown) > 100  # the check reads them
    wrong = []
    for doc, line in shown:
        words = line.replace("[", " ").replace("]", " ").replace("|", " ").split()
        verb = " ".join(w for w in words[1:3] if re.fullmatch(r"[a-z][a-z0-9-]*", w))
        while verb and verb not in verbs:
            verb = verb.rpartition(" ")[0]
        if not verb:
            continue
        taken = {f for v, p in verbs.items() if v == verb or v.startswith(verb + " ") for f, _ in _flags(p)}
        renamed = {
            f for v, p in verbs.items() if v.startswith(verb) for f, a in _flags(p)
            if isinstance(a, option_types._Renamed) and f != a.option_strings[0]
        }  # fmt: skip
        for word in words:
            flag = word.split("=")[0]
            if re.fullmatch(r"--[a-z][a-z0-9-]*", flag) and (flag not in taken or flag in renamed):
                wrong.append(f"{doc}: iree-matrix {verb} {flag}")
    assert wrong == []


@pytest.mark.parametrize(
    "command", ["search --budget 3 --descent-batches 2", "advise mobilenet_v2 --rounds 6"]
)
def test_a_suggested_command_parses(command: str) -> None:
    cli._parser().parse_args(shlex.split(command))
