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
import zlib
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
    # No network of its own (updates, sync, first-run pages) and a profile of its own each time;
    # sRGB, so a screenshot's pixels are the page's colours.
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--force-color-profile=srgb",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        argv = [exe, *flags, f"--user-data-dir={profile}", "--v=0", *args]
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


# --- failed, refused and not run: three colours (issue #39 item 4) -------------------------------

PUBLISHED = REPO / "results" / "results.jsonl"


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG: what Chromium writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    channels = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line if channels == 3 else b"".join(line[i : i + 3] for i in range(0, stride, 4))))
        previous = line
    return width, height, rows


def _count(rows: list[bytes], rgb: tuple[int, int, int], tolerance: int = 4) -> int:
    found = 0
    for row in rows:
        for i in range(0, len(row), 3):
            if all(abs(row[i + k] - rgb[k]) <= tolerance for k in range(3)):
                found += 1
    return found


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


class _Cells(HTMLParser):
    """Each heatmap cell's group id, its hover title and the fill of its rectangle."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, dict[str, str]] = {}
        self._group: str = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "g" and re.fullmatch(r"[\w-]+-cell-\d+-\d+", attrs.get("id") or ""):
            self._group = attrs["id"]
            self.cells[self._group] = {"title": "", "fill": ""}
        elif tag == "title" and self._group:
            self._in_title = True
        elif tag == "path" and self._group and not self.cells[self._group]["fill"]:
            fill = re.search(r"fill:\s*(#[0-9a-f]{6})", attrs.get("style") or "")
            self.cells[self._group]["fill"] = fill[1] if fill else ""

    def handle_data(self, data):
        if self._in_title:
            self.cells[self._group]["title"] += data

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "g" and self._group and self.cells[self._group]["fill"]:
            self._group = ""


@pytest.fixture(scope="module")
def site_with_failures(tmp_path_factory) -> Path:
    """The slice above plus YOLOX-nano's real records from the published release history on the same
    releases: its compile fails on 3.7.1 and 3.8.0 (`torch.constant.float`), runs on 3.9.0/3.10.0."""
    results = tmp_path_factory.mktemp("failures")
    wanted = re.compile(
        r"^(export|compile|run):yolox_nano/py3\.11-torch2\.13\.0-turbine3\.9\.0(/iree3\.(7\.1|8\.0|9\.0|10\.0)/x86_64/default)?$"
    )
    extra = [ln for ln in PUBLISHED.read_text().splitlines() if wanted.match(json.loads(ln)["job"])]
    assert len(extra) >= 7, "the published release history lost YOLOX-nano's records"
    (results / "results.jsonl").write_text(RESULTS.read_text() + "\n".join(extra) + "\n")
    subprocess.run([sys.executable, "-m", "iree_matrix", "report", "--results-dir", str(results)], check=True)
    return results


def test_failed_refused_and_not_run_are_three_colours_in_the_dom_and_on_screen(
    site_with_failures: Path, tmp_path
):
    from iree_matrix.report.figures import COLOURS

    page = site_with_failures / "site" / "index.html"
    done = chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    parsed = _Cells()
    parsed.feed(done.stdout)
    by_fill: dict[str, list[str]] = {}
    for ident, cell in parsed.cells.items():
        by_fill.setdefault(cell["fill"], []).append(f"{ident}: {cell['title']}")
    failed, refused, unrun = (by_fill.get(COLOURS[s], []) for s in ("fail", "refuses", "not_run"))
    assert len({COLOURS["fail"], COLOURS["refuses"], COLOURS["not_run"]}) == 3
    # YOLOX-nano's failed compiles are drawn as failures, in the compiler's words — not as "not run".
    assert any("yolox_nano × 3.8.0: compile fail" in c and "torch.constant.float" in c for c in failed), (
        failed
    )
    assert any(c.startswith("models-cell") and "yolox_nano × 3.7.1" in c for c in failed)
    assert refused and all(c.startswith("load-cell") and "refuses" in c for c in refused)
    assert unrun and all("not run" in c or "unknown" in c for c in unrun)
    assert not any("yolox" in c for c in unrun)
    # On screen: the page as Chromium draws it has each of the three colours, beyond a legend swatch.
    shot = tmp_path / "index.png"
    chromium("--window-size=1280,3200", f"--screenshot={shot}", page.as_uri())
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 3200)
    counts = {s: _count(rows, _hex(COLOURS[s])) for s in ("ok", "fail", "refuses", "not_run")}
    print(counts)
    assert all(n >= 600 for n in counts.values()), counts  # a cell is ~30x20 px, a legend swatch ~20x18
