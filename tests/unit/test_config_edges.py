"""A configuration is read and spelled at the edges only (issue 93): core/model/configuration.py owns
its text, the matrix file's parser refuses a profile name that holds its separator. Everywhere else
src/ takes `Config` and `Runtime` values, so this counts the string surgery on configurations left in
src/iree_matrix: splitting, partitioning, prefix tests and joins on their separators (`+`, `@`,
`k:`, `cpu-`, `src:`, or the constants that name them), and f-strings that glue a configuration's
parts together: none is left."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "iree_matrix"

# Where the text is the point: the value's own module, and the matrix file's parser (a profile's
# name must not hold the separator, or its cells' ids could not be read back).
EDGES = {"core/model/configuration.py", "matrix/spec_file.py"}

# The separators by the names src/ gives them: any use outside the edges is surgery on a configuration.
_NAMED = r"(?:\b(?:COMBINE|VARIANT|MARK|SOURCE_PREFIX|KERNEL_PREFIX)\b|\bNamedCpu\.PREFIX\b)"
# A configuration's own prefixes, spelled out.
_PREFIX = r"""["'](?:\+k:|k:|cpu-|src:)["']"""
# "+" and "@" separate many things (CPU features, git URLs, flag files); they count where the text
# operated on is a configuration, a profile, a runtime or a model with its variant.
_WORD = r"(?:profile|config|runtime|candidate|variant|knob|model|label|pick|arm|fleet|base)"
_CUT = r"\.(?:r?split|r?partition|startswith|endswith|removeprefix|removesuffix)\(\s*\(?\s*"
PATTERNS = (
    re.compile(_NAMED),
    re.compile(_PREFIX),
    # profile.split("+"), x.model.partition("@")
    re.compile(rf"{_WORD}\w*(?:\.\w+|\[[^\]]*\])*{_CUT}[\"'][+@]"),
    re.compile(rf"[\"'][+@][\"']\.join\([^)]*{_WORD}"),  # "+".join(knobs)
    re.compile(rf"\{{[^}}]*{_WORD}[^}}]*\}}[+@]\{{|\}}[+@]\{{[^}}]*{_WORD}"),  # f"{base}+{fleet}"
    # a helper of its own that cuts or glues a profile label: split_profile_label(p), profile_label(p, k)
    re.compile(r"(?<![.\w])(?<!def )(?:split_\w*(?:profile|label|config)\w*|\w*profile_label)\("),
)


def surgery(text: str) -> list[int]:
    """The numbers of the lines of `text` (a module) that cut or glue a configuration's text."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        # a comment, a docstring's first line, an import (its uses are counted): no surgery
        skip = line.lstrip().startswith(("#", '"""', "from ", "import "))
        code = "" if skip else re.sub(r"#.*", "", line)
        if any(p.search(code) for p in PATTERNS):
            found.append(n)
    return found


def _sites() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where not in EDGES:
            lines = path.read_text().splitlines()
            found += [f"{where}: {lines[n - 1].strip()}" for n in surgery(path.read_text())]
    return found


def test_configurations_are_cut_and_glued_only_at_the_edges() -> None:
    sites = _sites()
    assert sites == [], (
        "read and spell it through core/model/configuration.py's Config / Runtime:\n" + "\n".join(sites)
    )


def test_the_count_finds_the_surgery_it_forbids() -> None:
    """The count can fail: each spelling the code once had is found, and what is no configuration is not."""
    for line in (
        'parts = profile.split("+")',
        "profile.split(COMBINE)",
        "COMBINE.join(p for p in parts if p != fleet)",
        'config = search.parse(f"{base}{COMBINE}{fleet}")',
        'name = f"{pick.name}+{fleet}"',
        'profile, _, kernel = text.partition("+k:")',
        "if runtime.startswith('src:'):",
        'return runtime[4:].split("+")[0] if runtime.startswith("src:") else runtime',
        'r.label.source_model.partition("@")[0]',
        "if search.VARIANT not in c.model:",
        'found = [n for n in names if n.startswith("cpu-")]',
        'knobs = "+".join(sorted(config.knobs))',
        "profile, kernel = split_profile_label(profile)",  # bundle's arm_name once
        "return profile_label(arm_name(profile, cpu)[0], kernel), KERNEL_ARM",
    ):
        assert surgery(line) == [1], line
    for line in (
        'url, _, tag = spec[4:].rpartition("@")',
        'merged = "+".join(ATTENTION_PARTS)',
        'value = flag.split("=", 1)[1].removeprefix("@")',
        'key = f"{f}@{compiler}"',
        "# a comment on profile.split(COMBINE)",
        'label = config.with_kernel("dw").profile_label',
        "def profile_label(self) -> str:",
    ):
        assert surgery(line) == [], line
