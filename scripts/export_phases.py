"""The export workers' phases and outcome (export_model.py and the workers built on it): which
phase's code is running (DIR/.phase, for the export stage to say whose code a killed worker was in),
a phase's failure, and error.json. Python 3.9 syntax; the stdlib only.

A failure outside the model's code and turbine's is the worker's own (phase `harness`), and so is one
whose exception says it is (`harness = True`: an export the worker itself made wrong, export_fx.py).
"""

from __future__ import annotations

import errno
import json
import os
import traceback
from pathlib import Path


class PhaseError(Exception):
    def __init__(self, phase, exc):
        super().__init__(str(exc))
        self.phase = phase
        self.exc = exc


class ModelFinding(Exception):
    """What the model itself does that leaves nothing for IREE to be checked against: said in these
    words (no exception type before them)."""


# The phase last entered, in DIR/.phase (see the docstring; `track_phases` starts it). Each is written
# whole (replaced, never truncated) and not reset when the phase ends: a model that kills this
# process's parent goes on running until the sandbox ends it, and its next note must still be whole.
PHASE_FILE = ".phase"
HARNESS = "harness"  # the worker's own code, before the model is built
_phase_file = None


_last_phase = HARNESS
# Descriptors held from the start and let go when the worker must write its outcome: a model that
# opens files until EMFILE left the worker unable to write error.json, and its failure read as "the
# model ended its process".
_spare_fds = []


def reserve_fds(count=2):
    while len(_spare_fds) < count:
        try:
            _spare_fds.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            return


def release_fds():
    while _spare_fds:
        os.close(_spare_fds.pop())


def note_phase(name):
    global _last_phase
    _last_phase = name
    if _phase_file is not None:
        tmp = _phase_file.with_name(_phase_file.name + ".part")
        tmp.write_text(name)
        os.replace(str(tmp), str(_phase_file))


def _phase(name, fn, *args):
    try:
        note_phase(name)  # fails when the model's code has used up the descriptors: its failure too
        return fn(*args)
    except PhaseError:  # a phase within this one (a recipe's check within the traced one): its own
        raise
    except Exception as exc:  # the worker's whole job is to report what failed, and where
        raise PhaseError(name, exc) from exc


def out_of_descriptors(exc):
    """`exc`, or what it was raised from, is EMFILE or ENFILE: no file descriptor left."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def track_phases(out):
    """From now on, `_phase` notes in out/.phase whose code is running."""
    global _phase_file
    _phase_file = out / PHASE_FILE
    note_phase(HARNESS)
    reserve_fds()


def write_json(path, data):
    """Whole or not at all: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(str(tmp), str(path))


def run_reporting(work, args):
    """`work(args)`, its failure written to error.json: a phase's with its phase, any other the
    worker's own (phase `harness`: iree-matrix's code failed, not the model's nor turbine's)."""
    try:
        work(args)
    except PhaseError as err:  # an export the harness made wrong is the harness's, in any phase
        write_error(args.out, HARNESS if getattr(err.exc, "harness", False) else err.phase, err.exc)
        return 1
    except Exception as exc:
        write_error(args.out, HARNESS, exc)
        return 1
    return 0


def write_error(out, phase, exc):
    traceback.print_exception(type(exc), exc, exc.__traceback__)
    release_fds()  # the outcome is written whatever the model left open
    if out_of_descriptors(exc):
        if phase == HARNESS:  # the worker holds a handful of files: the model's code used them up
            phase = _last_phase if _last_phase != HARNESS else "model"
        limit = _descriptor_limit()
        exc = ModelFinding(
            f"the model's code used up the process's file descriptors ({exc}; the limit is {limit}): "
            "does it open files, sockets or pipes without closing them?"
        )
    said = f"{exc}" if isinstance(exc, ModelFinding) else f"{type(exc).__name__}: {exc}"
    error = {"phase": phase, "type": type(exc).__name__, "message": said[:4000]}
    Path(out).mkdir(parents=True, exist_ok=True)
    write_json(Path(out) / "error.json", error)


def _descriptor_limit():
    try:
        import resource

        return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return "unknown"
