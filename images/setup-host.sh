#!/usr/bin/env bash
# Make this host able to build and run iree-matrix's Docker environments:
#   - the Docker Engine (package docker.io) and debootstrap, installed with apt-get when missing;
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
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "docker.io and debootstrap already installed"
fi
command -v docker >/dev/null 2>&1 || { say "no docker client on PATH after installing docker.io" >&2; exit 1; }

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
