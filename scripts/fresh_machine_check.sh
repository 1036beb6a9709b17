#!/usr/bin/env bash
# Runs scripts/bootstrap.sh on a machine that has nothing: a debootstrapped Debian 12 minbase
# root with only `git make` added (what the README asks of a new user), in a chroot, from a clean
# clone of HEAD. Then checks that every host command the project runs is there and works, runs
# the host-tools guard and the unit tests with the virtualenv bootstrap made, and starts a
# container on a podman bridge network (the step that failed without iptables). Nothing of this
# machine's own installation is visible inside. Needs root and debootstrap (`make setup`).
# Usage: scripts/fresh_machine_check.sh [--keep]   (--keep leaves the root in $DLFB_FRESH_ROOT)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${DLFB_FRESH_ROOT:-$(mktemp -d /var/tmp/dlfb-fresh.XXXXXX)}
mirror=${DLFB_FRESH_MIRROR:-http://deb.debian.org/debian}
keep=${1:-}
log() { printf '[fresh-check] %s\n' "$*"; }

cleanup() {
  # every mount under the root (ours, and any a container left), innermost first
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
  [ "$keep" = --keep ] || rm -rf "$root"
}
trap cleanup EXIT

started=$(date +%s)
log "debootstrap bookworm minbase + git make into $root"
debootstrap --variant=minbase --include=git,make bookworm "$root" "$mirror" >/dev/null
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The machine's own way to the registries comes along (its CA certificates, pip settings and
# the SSL_*/PIP_* variables): that is this machine's set-up, not something the project installs.
mkdir -p "$root/usr/local/share/ca-certificates"
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
mapfile -t registry_env < <(env | grep -E '^(PIP_CERT|PIP_DEFAULT_TIMEOUT|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|GIT_SSL_CAINFO)=' || true)
# the root must be a mount point of its own, or runc cannot set up a container's root inside it
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"

log "clean clone of HEAD into the new root"
git clone -q "$repo" "$root/root/datalake-fb"

# The commands of scripts/host-packages.txt, each asked for its version after bootstrap.
cat >"$root/root/check.sh" <<'EOF'
set -euo pipefail
cd /root/datalake-fb
echo "before bootstrap:"; for c in podman iptables debootstrap curl ssh python3; do
  printf '  %-12s %s\n' "$c" "$(command -v "$c" || echo absent)"; done
scripts/bootstrap.sh
echo "after bootstrap:"
podman --version
runc --version | head -1
/usr/lib/podman/netavark --version
iptables -V
debootstrap --version
ssh -V 2>&1
curl --version | head -1
.venv/bin/go version
.venv/bin/ansible-playbook --version | head -1
.venv/bin/pytest -q -p no:cacheprovider tests/unit
# What failed before: a container on a bridge network (netavark sets it up with iptables).
export CONTAINERS_CONF=$PWD/roles/lab/files/containers.conf
mkdir -p /probe-root && mount --bind / /probe-root   # the new root itself, as the container's root
podman network rm -f dlfb-fresh-check >/dev/null 2>&1 || true
podman network create --subnet 10.231.99.0/24 dlfb-fresh-check >/dev/null
podman run --rm --network dlfb-fresh-check --rootfs /probe-root /bin/sh -c "echo container interfaces: \$(ls /sys/class/net)"
podman network rm -f dlfb-fresh-check >/dev/null
umount /probe-root
EOF
log "bootstrap and checks inside the chroot"
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  TERM=dumb LANG=C.UTF-8 "${registry_env[@]}" bash /root/check.sh
log "passed in $(($(date +%s) - started)) s"
