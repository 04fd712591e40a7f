"""docs/glossary.md: one entry per word, in alphabetical order, each saying where it lives (`*In:*`),
and every module path it names exists, with the class, function or constant named after a colon
(`findings/search.py:Config`) defined at that module's top level. A module moved or a name renamed
fails here until the glossary says where it went."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "iree_matrix"
GLOSSARY = REPO / "docs" / "glossary.md"
ENTRY = re.compile(r"^- \*\*(?P<word>[^*]+)\*\*: ", re.MULTILINE)
# A backticked file path, optionally `:Name`: what the checks below hold to the tree.
PATH = re.compile(r"`(?P<path>[\w./-]+\.(?:py|json|toml|md|sh))(?::(?P<name>\w+))?`")


def _entries() -> dict[str, str]:
    text = GLOSSARY.read_text()
    found = list(ENTRY.finditer(text))
    assert found, "docs/glossary.md has no `- **word**: ` entry"
    ends = [m.start() for m in found[1:]] + [len(text)]
    entries: dict[str, str] = {}
    for m, end in zip(found, ends):
        word = m["word"]
        assert word not in entries, f"docs/glossary.md defines {word!r} twice: one word, one entry"
        entries[word] = text[m.end() : end]
    return entries


def _resolve(path: str) -> Path:
    """Under src/iree_matrix/ first, as the glossary says, else from the repository's root."""
    for base in (PACKAGE, REPO):
        if (base / path).is_file():
            return base / path
    raise AssertionError(
        f"docs/glossary.md names {path}: no such file under src/iree_matrix/ or the repository"
    )


@functools.cache
def _top_level_names(module: Path) -> frozenset[str]:
    names: set[str] = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


def test_every_entry_says_where_it_lives_in_the_source():
    for word, body in _entries().items():
        assert "*In:*" in body, f"{word}: no `*In:*` naming the module it lives in"
        named = [m["path"] for m in PATH.finditer(body.split("*In:*", 1)[1])]
        assert named, f"{word}: its `*In:*` names no module path"


def test_every_named_module_and_name_exists():
    for word, body in _entries().items():
        for m in PATH.finditer(body):
            module = _resolve(m["path"])
            if m["name"]:
                assert m["name"] in _top_level_names(module), (
                    f"{word}: docs/glossary.md names {m['path']}:{m['name']}, not defined atop that module"
                )


# The words a reader of the code meets first, and those that named several things when the glossary
# was written: each keeps an entry (renamed words move their entry, they do not lose it).
REQUIRED = (
    "answer", "arm", "board", "bundle", "cell", "centre", "configuration", "exporter", "identity", "job",
    "key", "neighbourhood", "peer", "pick", "profile", "proof", "recipe", "release", "runtime build",
    "sitting", "stage", "store", "target", "unit", "variant", "window",
)  # fmt: skip


def test_the_projects_words_have_entries():
    missing = sorted(set(REQUIRED) - set(_entries()))
    assert not missing, f"docs/glossary.md lacks {missing}"


def test_entries_are_alphabetical():
    words = list(_entries())
    assert words == sorted(words, key=str.lower), "docs/glossary.md's entries out of alphabetical order"


def test_contributing_links_the_glossary():
    assert "docs/glossary.md" in (REPO / "CONTRIBUTING.md").read_text()
