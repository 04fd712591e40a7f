#!/usr/bin/env bash
# Make this host able to build and run iree-matrix's Docker environments:
#   - the Docker Engine (package docker.io) and debootstrap, installed with apt-get when missing;
#   - qemu-user-static and the binfmt_misc handlers qemu-arm and qemu-aarch64 registered with the
#     F (fix-binary) flag, so ARM binaries run under emulation - also inside containers, whose
#     root filesystems have no qemu of their own - and gcc/g++-arm-linux-gnueabi with
#     libc6-dev-armel-cross (the armel cross compilers and C library), cmake and ninja (IREE's
#     runtime built from source);
#   - gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm (the bare-metal Cortex-M target);
#   - bubblewrap (bwrap), the sandbox a user's model code runs in on the venv backend
#     (src/iree_matrix/core/bubblewrap.py; without it those stages refuse unless --unsandboxed);
#   - valgrind, whose callgrind counts the instructions a module executes (the instructions stage);
#   - libvulkan1 and mesa-vulkan-drivers (lavapipe, a software Vulkan device: the vulkan-spirv cells);
#   - Debian's Chromium and the DejaVu fonts, so the published site (results/site) is checked in a
#     real browser, headless, by the integration tests; its chromium-common also ships SwiftShader's
#     Vulkan ICD (/usr/lib/chromium/vk_swiftshader_icd.json), the software device that the IREE
#     runtimes hiding lavapipe (2.9.0-3.11.0) accept (src/iree_matrix/iree/devices.py);
#   - a running dockerd, started in the background when `docker info` does not answer
#     (these machines have no init system, so nothing else starts it).
# Idempotent: a second run finds everything in place and changes nothing. Needs root.
set -euo pipefail

LOG=/var/log/iree-matrix-dockerd.log
WAIT_SECONDS=60

say() { printf 'setup-host: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    say "must run as root (it installs packages and starts dockerd)" >&2
    exit 1
fi

# --- packages ---------------------------------------------------------------------------------
# A `docker` client may exist without the engine (e.g. /usr/local/bin/docker), so look for the
# daemon and the client separately; containerd and runc come with docker.io as dependencies.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v qemu-arm-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v arm-linux-gnueabi-gcc >/dev/null 2>&1 || missing+=(gcc-arm-linux-gnueabi)
# IREE's runtime built from source (armv6-smoke): cmake, ninja, the native and the armel C++ compilers.
command -v arm-linux-gnueabi-g++ >/dev/null 2>&1 || missing+=(g++-arm-linux-gnueabi)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
# The armel C library's headers and crt files: only a Recommends of the cross gcc.
[ -f /usr/arm-linux-gnueabi/include/stdio.h ] || missing+=(libc6-dev-armel-cross)
command -v readelf >/dev/null 2>&1 || missing+=(binutils)
# The site test loads results/site in a real browser; the SVG text is set in DejaVu Sans.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# The bare-metal Cortex-M target (docs/cortex-m.md): the arm-none-eabi cross compiler, newlib, and
# qemu-system-arm to run the firmware.
command -v arm-none-eabi-gcc >/dev/null 2>&1 || missing+=(gcc-arm-none-eabi)
[ -f /usr/lib/arm-none-eabi/include/stdio.h ] || missing+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null 2>&1 || missing+=(qemu-system-arm)
# The venv backend's sandbox for model code (export, peer, flops): docs/failures.md.
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
# Instruction counts (`[benchmark] instructions`, stages/instructions.py): callgrind.
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
# GPU targets (docs/gpu.md): the Vulkan loader and Mesa's lavapipe, a software Vulkan device, so
# vulkan-spirv cells run (and are checked against torch) on a machine without a GPU.
[ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libvulkan.so.1 ] || missing+=(libvulkan1)
compgen -G '/usr/share/vulkan/icd.d/lvp_icd*.json' >/dev/null || missing+=(mesa-vulkan-drivers)
[ -e /usr/lib/chromium/vk_swiftshader_icd.json ] || missing+=(chromium-common)
if [ "${#missing[@]}" -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "docker.io, debootstrap, qemu-user-static, the ARM and native toolchains, bubblewrap, valgrind, chromium and binutils already installed"
fi
command -v docker >/dev/null 2>&1 || { say "no docker client on PATH after installing docker.io" >&2; exit 1; }

# --- binfmt_misc: qemu-user handlers for foreign CPUs -----------------------------------------
# The F flag makes the kernel open the interpreter once, at registration, in this (the host's)
# mount namespace: that is what lets a container's ARM binaries run although the container has no
# /usr/libexec/qemu-binfmt of its own. Without an init system nothing registers the handlers that
# qemu-user-static ships in /usr/lib/binfmt.d, so this does it (binfmt-support is not needed).
BINFMT=/proc/sys/fs/binfmt_misc
if [ ! -e "$BINFMT/register" ]; then
    say "mounting binfmt_misc on $BINFMT"
    mount -t binfmt_misc binfmt_misc "$BINFMT"
fi
[ -e "$BINFMT/status" ] && [ "$(cat "$BINFMT/status")" = enabled ] || echo 1 >"$BINFMT/status"

register_qemu() {  # $1: handler name (qemu-arm, qemu-aarch64)
    local name=$1 conf=/usr/lib/binfmt.d/$1.conf entry=$BINFMT/$1 line flags
    if [ -e "$entry" ]; then
        if grep -qx enabled "$entry" && grep -q '^flags: *[A-Z]*F' "$entry" \
            && [ -e "$(sed -n 's/^interpreter //p' "$entry")" ]; then
            say "$name already registered ($(sed -n 's/^interpreter //p' "$entry"), $(grep '^flags:' "$entry"))"
            return
        fi
        say "$name is registered without F, disabled, or with a missing interpreter: re-registering"
        echo -1 >"$entry"
    fi
    [ -f "$conf" ] || { say "$conf not found (is qemu-user-static installed?)" >&2; exit 1; }
    line=$(grep -v '^[[:space:]]*\(#\|$\)' "$conf" | head -n 1)
    # :name:type:offset:magic:mask:interpreter:flags - magic and mask are \x-escaped, no colons.
    flags=${line##*:}
    case "$flags" in
        *F*) ;;
        *) line="${line%:*}:${flags}F"; say "$conf lacks the F flag: registering with flags ${flags}F" ;;
    esac
    printf '%s' "$line" >"$BINFMT/register"
    say "registered $name ($(sed -n 's/^interpreter //p' "$entry"), $(grep '^flags:' "$entry"))"
}
register_qemu qemu-arm
register_qemu qemu-aarch64

# --- daemon -----------------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
    say "dockerd already answers ($(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
    exit 0
fi

# Containers run with --network none, so the daemon needs neither a bridge nor iptables rules
# (and this host's kernel may not offer the netfilter modules a default bridge wants).
say "starting dockerd in the background (log: $LOG)"
mkdir -p "$(dirname "$LOG")"
nohup dockerd --iptables=false --ip6tables=false --bridge=none >>"$LOG" 2>&1 </dev/null &
daemon_pid=$!

for _ in $(seq "$WAIT_SECONDS"); do
    if docker info >/dev/null 2>&1; then
        say "dockerd answers (pid $daemon_pid, $(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
        exit 0
    fi
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
        break  # it died: no point waiting the full minute
    fi
    sleep 1
done

say "dockerd did not answer within ${WAIT_SECONDS} s; last lines of $LOG:" >&2
tail -n 30 "$LOG" >&2 || true
exit 1
