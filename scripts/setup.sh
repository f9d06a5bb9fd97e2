#!/usr/bin/env bash
# Installs the Debian packages moat needs (as root): busybox-static for test bundles,
# runc and runsc to compare with, diod for 9P interop, strace, qemu for the vm backend,
# podman to drive moat as a container engine does.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
need=()
for pkg in busybox-static runc runsc diod strace qemu-system-x86 util-linux podman debootstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "moat setup: these Debian packages are missing: ${need[*]}" >&2
  echo "moat setup: run as root, or: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "moat setup: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
