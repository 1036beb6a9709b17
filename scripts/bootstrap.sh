#!/usr/bin/env bash
# Prepares a Debian 12 controller (root or sudo) for this repository, idempotently:
#   host packages (podman, runc, debootstrap ...), a Go toolchain for the MinIO build, the pinned
#   controller virtualenv, and the checkout exposed as ansible_collections/datalake_fb/platform.
# Heavy state lives under $DLFB_CACHE (default ~/.cache/datalake-fb) so other checkouts and
# later runs reuse it; the checkout links to it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${DLFB_CACHE:-$HOME/.cache/datalake-fb}
go_min=1.24
go_fallback=1.25.4   # fetched from the Go module proxy (golang.org/toolchain) if no Go >= $go_min
# Host packages and the commands each provides: one list, also read by the host-tools test.
host_packages_file="$repo/scripts/host-packages.txt"
mapfile -t packages < <(awk '!/^#/ && NF {print $1}' "$host_packages_file")

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
log() { printf '[bootstrap] %s\n' "$*"; }

# 1. Host packages
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing host packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Every command the project runs on this machine must now be there (a package can be installed
# and still miss one, e.g. after a manual removal): name what is missing instead of failing later.
absent=$(awk '!/^#/ && NF {for (i = 2; i <= NF; i++) print $1, $i}' "$host_packages_file" |
  while read -r pkg cmd; do
    case "$cmd" in /*) [ -x "$cmd" ] ;; *) command -v "$cmd" >/dev/null ;; esac || echo "$cmd (package $pkg)"
  done)
if [ -n "$absent" ]; then
  log "missing host commands after the package step: $(echo "$absent" | paste -sd, -)"
  exit 1
fi

mkdir -p "$cache"

# 2. The controller virtualenv, named after the hash of the pinned requirements
req_hash=$(sha256sum "$repo/requirements.txt" | cut -c1-12)
venv="$cache/venv-$req_hash"
if [ ! -x "$venv/bin/ansible-playbook" ]; then
  log "creating the controller virtualenv $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >/dev/null
  "$venv/bin/pip" install -q -r "$repo/requirements.txt"
fi
ln -sfn "$venv" "$repo/.venv"

# 3. A Go toolchain new enough for MinIO, linked into the virtualenv's bin
go_ok() { "$1" version 2>/dev/null | awk -v min="$go_min" '{v=$3; sub(/^go/,"",v); split(v,a,"."); split(min,b,"."); exit !(a[1]>b[1] || (a[1]==b[1] && a[2]>=b[2]))}'; }
# Look for a system Go outside our own virtualenv (make puts .venv/bin first on PATH, and a link
# to the venv's own go link would be a loop); link the resolved binary, never a link.
go_bin=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF -e "$venv/bin" -e "$repo/.venv/bin" | paste -sd: -) \
  command -v go || true)
[ -z "$go_bin" ] || go_bin=$(readlink -f "$go_bin" || true)
if [ -z "$go_bin" ] || ! go_ok "$go_bin"; then
  go_bin="$cache/go-$go_fallback/go/bin/go"
  if ! go_ok "$go_bin"; then
    log "fetching Go $go_fallback from the Go module proxy"
    tmp=$(mktemp -d)
    curl -fsSL -o "$tmp/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$go_fallback.linux-amd64.zip"
    mkdir -p "$cache/go-$go_fallback" && unzip -q "$tmp/go.zip" -d "$tmp/x"
    rm -rf "$cache/go-$go_fallback/go" && mv "$tmp/x/golang.org/toolchain@v0.0.1-go$go_fallback.linux-amd64" "$cache/go-$go_fallback/go"
    chmod -R u+w "$cache/go-$go_fallback/go" && rm -rf "$tmp"
  fi
fi
ln -sfn "$go_bin" "$venv/bin/go"

# 4. Shared caches, and the checkout as a collection
mkdir -p "$cache/artifacts" "$cache/apt-archives/partial" "$repo/artifacts" "$repo/.lab"
ln -sfn "$cache/artifacts" "$repo/artifacts/cache"
ln -sfn "$cache/apt-archives" "$repo/.lab/apt-archives"
mkdir -p "$repo/.collections/ansible_collections/datalake_fb"
ln -sfn ../../.. "$repo/.collections/ansible_collections/datalake_fb/platform"
log "ready: $("$repo/.venv/bin/ansible" --version | head -1 | sed 's/^ansible //')"
