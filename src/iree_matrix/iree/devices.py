"""Which GPU devices a runtime sees here, in its own words (`iree-run-module --dump_devices=DRIVER`,
else the run's refusal): an absent device reads "not run: no CUDA device here", never a failure. The
2.9.0-3.11.0 Vulkan runtimes hide any "llvmpipe" device, so they run on SwiftShader where it is
installed (`SWIFTSHADER_ICD`), else "not run: this runtime hides lavapipe". Pure functions of the output."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Optional

# `--dump_devices` (3.13.0): "# --device=vulkan://GPU-6d65…" then "name: llvmpipe (LLVM 15.0.6, 256 bits)".
_DEVICE = re.compile(r"--device=([\w-]+://\S*)")
_NAME = re.compile(r"^name:\s*(.+?)\s*$", re.MULTILINE)
# Before 3.12.0 the name is only the comment under the URI; 3.13.0 appends "(its driver's name)".
_COMMENT_NAME = re.compile(r"^# --device=\S+\n#\s{2,}(.+?)\s*$", re.MULTILINE)
# The Vulkan driver's refusal when it hides every device: "physical device 0 invalid; 1 physical
# devices available; 0 visible" (vulkan_driver.cc, iree_hal_vulkan_driver_find_device_by_index).
_HIDDEN = re.compile(r"(\d+) physical devices? available; 0 visible")
# Lavapipe, Mesa's software Vulkan device, names itself "llvmpipe (LLVM 15.0.6, 256 bits)";
# SwiftShader (Google's, which IREE's own CI ran Vulkan tests on) "SwiftShader Device (Subzero)".
LAVAPIPE_NAME = "llvmpipe"
SOFTWARE_NAMES = (LAVAPIPE_NAME, "SwiftShader")
# SwiftShader's Vulkan ICD as Debian's chromium-common ships it: the device the runtimes that hide
# lavapipe accept, added beside the system's ICDs (VK_ADD_DRIVER_FILES), so a real GPU stays visible.
SWIFTSHADER_ICD = Path("/usr/lib/chromium/vk_swiftshader_icd.json")


@dataclasses.dataclass(frozen=True)
class Devices:
    """What `--dump_devices=DRIVER` listed: device URIs and their names (in order)."""

    uris: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def software(self) -> bool:
        """The device a run takes (`chosen`) is a software one: its timings are the CPU's, not a GPU's."""
        return bool(self.names) and self.chosen()[1].startswith(SOFTWARE_NAMES)

    def chosen(self) -> tuple[str, str]:
        """The device a cell runs on, (URI, name): a real GPU, then lavapipe, then any other; by URI, so the
        order the loader enumerates ICDs in cannot change the device of a stored run."""
        named = list(zip(self.uris, self.names)) if len(self.names) == len(self.uris) else []
        if not named:
            return (self.uris[0] if self.uris else "", self.names[0] if self.names else "")
        return max(named, key=lambda d: (not d[1].startswith(SOFTWARE_NAMES), d[1].startswith(LAVAPIPE_NAME)))


def listed(output: str, driver: str) -> Devices:
    """The devices of `driver` a `--dump_devices` (or `--list_devices`) output names, each named by its
    "name:" line (3.12.0 on), else the "#   NAME" line under its URI."""
    uris = tuple(u for u in dict.fromkeys(_DEVICE.findall(output)) if u.startswith(f"{driver}://"))
    if not uris:  # --list_devices prints bare URIs, one a line
        uris = tuple(ln.strip() for ln in output.splitlines() if ln.strip().startswith(f"{driver}://"))
    return Devices(uris, tuple(_NAME.findall(output)) or tuple(_COMMENT_NAME.findall(output)))


def driver_env(driver: str, icd: Path = SWIFTSHADER_ICD) -> dict[str, str]:
    """The environment a `driver` run gets: for Vulkan, SwiftShader's ICD added where installed."""
    return {"VK_ADD_DRIVER_FILES": str(icd)} if driver == "vulkan" and icd.is_file() else {}


def not_run_reason(kind: str, output: str) -> str:
    """Why a GPU cell is not run, from the refusal of a run on a runtime that listed no device: it hides the
    devices there are ("N physical devices available; 0 visible"), or there is none."""
    if (hidden := _HIDDEN.search(output)) and int(hidden.group(1)) > 0:
        return (
            f"not run: this runtime hides lavapipe (llvmpipe), the only {kind} device here "
            f"(the runtime: {hidden.group(0)}; its Vulkan driver hides devices named llvmpipe; "
            "SwiftShader, which it accepts, comes with Debian's chromium-common)"
        )
    return f"not run: no {kind} device here" + (f" ({_first(output)})" if _first(output) else "")


def _first(output: str) -> str:
    """The runtime's own words: the first line that names a status (library missing, no device)."""
    status = r"\b(UNAVAILABLE|NOT_FOUND|FAILED_PRECONDITION|INTERNAL|UNKNOWN)\b"
    said = next((line.strip() for line in output.splitlines() if re.search(status, line)), "")
    text = re.sub(r"^\S+\.(c|cc):\d+:\s*", "", said)  # the runtime's own source file and line
    return text if len(text) <= 160 else text[:159] + "…"


def device_missing(reason: Optional[str]) -> bool:
    """A stored run's message says its device was absent (not a failure of the module)."""
    return bool(reason) and str(reason).startswith("not run: ")
