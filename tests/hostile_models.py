"""The hostile model sources the sandbox tests run, in one place (issue 72): each is a user model
file (`build(seed)`) that misbehaves in one way, a template whose `{…}` fields a test fills in
(paths, tags, a sleep's unique duration). Both the venv sandbox (tests/integration/test_sandbox.py,
test_hostile_models.py, tests/processes/test_bubblewrap.py) and the Docker one
(test_sandbox_docker_models.py) run the same sources, so the two sandboxes are held to the same
attacks; the helpers write the sources as a user's model files, make the user's project folder a drill
runs from, and find and end a model's detached child by its own sleep's duration.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

# Tries to delete the user's file by its absolute path and to write beside it.
_OUTSIDE_ATTEMPTS = """
    outside = []
    for attempt in (lambda: os.remove({precious!r}), lambda: open({seen!r}, "w").write("x")):
        try:
            attempt()
            outside.append("done")
        except OSError as e:
            outside.append(type(e).__name__)
"""

OUTSIDE = (
    "import os\ndef build(seed=0):" + _OUTSIDE_ATTEMPTS + '    raise RuntimeError(f"outside={{outside}}")\n'
)

# What a model did to a user's directory: every file in its working directory deleted, junk left,
# then the attempts outside.
WRITES_HERE = (
    """import os
def build(seed=0):
    for name in os.listdir("."):
        if os.path.isfile(name):
            os.remove(name)
    open("junk.txt", "w").write("left by the model")"""
    + _OUTSIDE_ATTEMPTS
    + '    said = f"cwd={{os.getcwd()}} outside={{outside}}"\n'
    + '    raise RuntimeError(f"the model wrote where it runs and gave up: {{said}}")\n'
)

# A detached child (its own session) that the stage must end; found by its sleep's `duration`.
_DETACHED_CHILD = """import subprocess, sys, time
def build(seed=0):
    child = subprocess.Popen(["setsid", "sleep", {duration!r}])
"""
HANGS = _DETACHED_CHILD + (
    '    print("child pid", child.pid, file=sys.stderr, flush=True)\n' + "    time.sleep(3600)\n"
)
DAEMON = _DETACHED_CHILD + '    raise RuntimeError(f"left a daemon behind: pid {{child.pid}}")\n'

GREEDY = """
def build(seed=0):
    hog = bytearray(3 << 30)  # 3 GiB, every page touched
    return hog
"""

# `{lines}` lines of ~1 MB each on stdout, then a failure.
CHATTY = """
import sys
def build(seed=0):
    for i in range({lines}):
        sys.stdout.write(("line %d of a chatty model\\n" % i) * 40000)
    raise RuntimeError("the chatty model gave up")
"""

# Writes 64 MB to /dev/shm/{mine} and deletes another program's /dev/shm/{theirs}.
SHARED_MEMORY = """
import os
def build(seed=0):
    did = []
    try:
        with open("/dev/shm/{mine}", "wb") as f:
            f.write(b"x" * (64 << 20))
        did.append("wrote")
    except OSError as e:
        did.append(type(e).__name__)
    try:
        os.remove("/dev/shm/{theirs}")
        did.append("deleted")
    except OSError as e:
        did.append(type(e).__name__)
    raise RuntimeError(f"shm={{did}} seen={{sorted(os.listdir('/dev/shm'))}}")
"""

SECRETS = """
def build(seed=0):
    read = []
    for path in ({ssh!r}, {secret!r}):
        try:
            read.append(open(path).read()[:8])
        except OSError as e:
            read.append(type(e).__name__)
    raise RuntimeError(f"read={{read}}")
"""

# Kills {victim}, makes and removes files in /dev ({tag}), sets the immutable flag on {beside} and
# {host} (ioctl {setflags} with {immutable_fl}), writes the kernel log, reads {secret}; returns a
# real model when {succeeds}, else raises what it managed.
HOSTILE = """
import errno, fcntl, os, struct

import torch
from models.api import ModelSpec


def attempt(what):
    try:
        return what() or "done"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def kill():
    os.kill({victim}, 9)


def make_in_dev():
    with open("/dev/{tag}-made", "w") as f:
        f.write("left by the model")


def remove_in_dev():
    os.remove("/dev/{tag}-victim")


def immutable(path):
    def set_flag():
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.ioctl(fd, {setflags}, struct.pack("i", {immutable_fl}))
        finally:
            os.close(fd)
    return set_flag


def read_home():
    with open({secret!r}) as f:
        return "read: " + f.read()


def kmsg():
    if not os.path.exists("/dev/kmsg"):
        return "absent"
    fd = os.open("/dev/kmsg", os.O_WRONLY)
    try:
        os.write(fd, b"{tag} from the model\\n")
    finally:
        os.close(fd)


def build(seed=0):
    said = {{
        "kill": attempt(kill),
        "dev-make": attempt(make_in_dev),
        "dev-remove": attempt(remove_in_dev),
        "immutable-beside": attempt(immutable({beside!r})),
        "immutable-host": attempt(immutable({host!r})),
        "kmsg": attempt(kmsg),
        "read-home": attempt(read_home),
    }}
    pids = sum(name.isdigit() for name in os.listdir("/proc"))
    report = f"hostile: {{said}} pids={{pids}} uid={{os.getuid()}}"
    if {succeeds}:
        print(report, flush=True)
        torch.manual_seed(seed)
        return ModelSpec(torch.nn.Linear(4, 4).eval(), (torch.randn(2, 4),), atol=1e-5, rtol=1e-4)
    raise RuntimeError(report)
"""

# Used as is (not a template). A script, not a model file: run as `python model.py OUT SOCKET
# HOME`, it says who it is and what it can reach (a root-only socket, /run, the environment, the user's home).
WHO_AM_I = """
import json, os, socket, sys
out, sock, home = sys.argv[1], sys.argv[2], sys.argv[3]
open(os.path.join(out, "made.txt"), "w").write("by the model")
try:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    connected = "connected"
except OSError as e:
    connected = type(e).__name__
print(json.dumps({
    "euid": os.geteuid(), "groups": os.getgroups(), "connected": connected,
    "run": os.listdir("/run"), "var_run": os.listdir("/var/run") if os.path.isdir("/var/run") else [],
    "env": sorted(os.environ), "home": os.environ.get("HOME"),
    "home_listing": os.listdir(home) if os.path.isdir(home) else None,
}))
"""

# Used as is (not a template). An export that leaves a link to a root-only file and a setuid
# copy of `id` in its output, tries the root socket beside it and reads a token from its
# environment, then returns a real model.
POISONS_ITS_OUTPUT = """
import os, shutil, socket, sys
import torch
from models.api import ModelSpec
def build(seed=0):
    out = sys.argv[sys.argv.index("--out") + 1]
    os.symlink("/etc/shadow", os.path.join(out, "weights.bin"))
    shutil.copy("/usr/bin/id", os.path.join(out, "id"))
    os.chmod(os.path.join(out, "id"), 0o4755)
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(os.path.dirname(__file__), "root.sock"))
        connected = "connected"
    except OSError as e:
        connected = type(e).__name__
    token = os.environ.get("HF_TOKEN")
    print(f"hostile: euid={os.geteuid()} socket={connected} token={token}", file=sys.stderr)
    return ModelSpec(module=torch.nn.Linear(2, 2), inputs=(torch.ones(1, 2),), atol=1e-4, rtol=1e-4)
"""


def write_models(folder: Path, sources: dict[str, str]) -> list[str]:
    """Each source as `NAME.py` in `folder` (made world-readable: the sandboxed model runs as
    nobody), and the matrix file's `FILE:build` reference to each."""
    folder.mkdir(mode=0o755, exist_ok=True)
    refs = []
    for name, source in sources.items():
        path = folder / f"{name}.py"
        path.write_text(source)
        path.chmod(0o644)
        refs.append(f"{path}:build")
    return refs


def users_project(folder: Path) -> Path:
    """A user's project folder (`folder/users-project`) holding their precious file (`precious.txt`,
    "keep me"), from which a drill starts the tool: a model must neither delete it nor write beside it."""
    users = folder / "users-project"
    users.mkdir()
    (users / "precious.txt").write_text("keep me")
    return users


def unique_duration(seed: object) -> str:
    """A sleep's duration no other process here has: 3600 s and a fraction from `seed`."""
    return f"3600.{abs(hash(str(seed))) % 10**9}"


def sleeping(duration: str) -> list[int]:
    """The pids of the `sleep` of that duration (a model's detached child), seen in /proc: a
    container's and a sandbox's processes are the host's too."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == f"sleep\0{duration}\0".encode():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def kill_sleeping(duration: str) -> None:
    """A child a failing test left behind, ended by its pid (never by a name)."""
    for pid in sleeping(duration):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
