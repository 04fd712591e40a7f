"""The published site in a real browser: `iree-matrix report` renders a small real results file
(a slice of the release-history run), Debian's headless Chromium loads the pages from disk, and
the test reads the rendered DOM, the browser's console and a screenshot."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "tests" / "data" / "site" / "results.jsonl"


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    exe = shutil.which("chromium")
    assert exe, "chromium not found: run images/setup-host.sh (it installs Debian's chromium)"
    # --no-sandbox: CI runs as root; --enable-logging=stderr --v=0 puts the page's console there.
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr"]
    argv = [exe, *flags, "--v=0", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: dict[str, int] = {}
        self.links: list[str] = []
        self.titles: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)

    def handle_endtag(self, tag):
        self._in_title = False


def dom(page: Path) -> tuple[_Elements, list[str]]:
    done = chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    parsed = _Elements()
    parsed.feed(done.stdout)
    return parsed, console_errors(done.stderr)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("published")
    shutil.copy(RESULTS, results / "results.jsonl")
    subprocess.run([sys.executable, "-m", "iree_matrix", "report", "--results-dir", str(results)], check=True)
    return results


def test_the_console_check_sees_an_error():
    """The check below could pass vacuously if Chromium stopped reporting console messages."""
    broken = Path(tempfile.mkdtemp()) / "broken.html"
    broken.write_text("<!doctype html><p>x</p><script>console.error('boom')</script>")
    _, errors = dom(broken)
    assert any("boom" in e for e in errors)


def test_index_renders_heatmaps_with_the_refusals_on_hover(site: Path):
    compat = json.loads((site / "compat.json").read_text())
    parsed, errors = dom(site / "site" / "index.html")
    assert errors == []
    load_cells = [i for i in parsed.ids if re.fullmatch(r"load-cell-\d+-\d+", i)]
    assert len(load_cells) == len(compat["pairs"]) >= 12  # every measured compiler x runtime pair
    assert any(re.fullmatch(r"models-cell-\d+-\d+", i) for i in parsed.ids)
    assert parsed.tags.get("svg", 0) >= 3  # load heatmap, function heatmap, exporter heatmap
    refusal = "bytecode version mismatch; runtime supports 16.0, module has 15.0"
    assert any(refusal in t for t in parsed.titles)


def test_every_page_loads_without_errors_and_every_link_resolves(site: Path):
    pages = sorted((site / "site").rglob("*.html"))
    assert any(p.parent.name == "models" for p in pages)
    for page in pages:
        parsed, errors = dom(page)
        assert errors == [], page
        for link in parsed.links:
            if not re.match(r"[a-z]+:", link) and not link.startswith("#"):
                assert (page.parent / link.split("#")[0]).is_file(), f"{page}: broken link {link}"
    model, _ = dom(site / "site" / "models" / "tiny_cnn.html")
    assert any(re.fullmatch(r"tiny-cnn-lat-0-series-0", i) for i in model.ids)  # the latency line
    assert any(re.fullmatch(r"tiny-cnn-lat-0-reference-\d+", i) for i in model.ids)  # torch eager


def test_screenshot(site: Path, tmp_path: Path):
    shot = tmp_path / "index.png"
    chromium("--window-size=1280,1600", f"--screenshot={shot}", (site / "site" / "index.html").as_uri())
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 1600)
    assert shot.stat().st_size > 50_000  # a page of figures, not a blank one
