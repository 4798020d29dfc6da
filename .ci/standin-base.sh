#!/usr/bin/env bash
# A test aid, not shipped: a local stand-in for the Dockerfile's base image python:3.11.14-slim-bookworm,
# for machines that have podman but cannot reach a container registry (Debian's package mirror is enough).
#   bash .ci/standin-base.sh                    # builds and imports localhost/python-standin:3.11-bookworm
#   podman build --build-arg PYTHON_IMAGE=localhost/python-standin:3.11-bookworm -t rota .
# What it is: a Debian 12 minbase root (debootstrap) with Debian's python3 (3.11) and python3-venv,
# `python` on /usr/local/bin like the official image, its PATH and LANG, no apt lists or caches.
# What it is not: the official image (that one builds CPython 3.11.14 itself into /usr/local); Debian's
# 3.11 is a patch release or two behind, so the image built on it is a stand-in for size and behaviour.
# Needs root, debootstrap and podman (`apt-get install -y podman debootstrap`). About 2 minutes.
# Environment: STANDIN_TAG (the image name), DEBIAN_MIRROR, STANDIN_KEEP_ROOTFS=1 (keep the tree).
set -euo pipefail

tag=${STANDIN_TAG:-localhost/python-standin:3.11-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" != 0 ]; then
  echo "standin-base.sh: run as root (debootstrap and chroot need it)" >&2
  exit 1
fi
for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { echo "standin-base.sh: $tool not found (apt-get install -y $tool)" >&2; exit 1; }
done

rootfs=$(mktemp -d /var/tmp/rota-standin.XXXXXX)
chmod 0755 "$rootfs"  # it becomes the image's /: mktemp's 0700 would lock every other user out
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
  if [ "${STANDIN_KEEP_ROOTFS:-0}" != 1 ]; then rm -rf "$rootfs"; else echo "rootfs kept in $rootfs" >&2; fi
}
trap cleanup EXIT

echo "debootstrap bookworm (minbase) into $rootfs ..." >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >&2

# Debian's own python, with venv and ensurepip (python3-venv brings the pip and setuptools wheels)
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -eu -c '
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ca-certificates python3 python3-venv >/dev/null
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /tmp/* /root/.cache
    ln -sf /usr/bin/python3 /usr/local/bin/python
    ln -sf /usr/bin/python3 /usr/local/bin/python3
    /usr/local/bin/python --version
  ' >&2
umount "$rootfs/proc"

# the official image's config that the Dockerfile relies on: PATH (it appends to it) and LANG
tar --numeric-owner -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  - "$tag" >&2
podman image ls "$tag" >&2
echo "$tag"
