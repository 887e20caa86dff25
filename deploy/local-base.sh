#!/usr/bin/env bash
# Base images for a machine that cannot pull from an image registry, from Debian's packages:
#   digitbot-base:bookworm            Python 3.11 (the bot image's BASE_IMAGE here)
#   digitbot-postgres-base:bookworm   PostgreSQL 15 (deploy/postgres/Dockerfile's base)
# Each is built only when the engine does not have it yet. Needs root, debootstrap and a running dockerd.
set -euo pipefail
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
build() {
    local tag=$1 packages=$2 root
    if docker image inspect "$tag" > /dev/null 2>&1; then
        echo "$tag: cached"
        return
    fi
    root=$(mktemp -d)
    trap 'rm -rf "$root"' RETURN
    debootstrap --variant=minbase --include="$packages" bookworm "$root" "$MIRROR" > /dev/null
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import - "$tag" > /dev/null
    echo "$tag: built"
}
build digitbot-base:bookworm python3,python3-venv,ca-certificates &
build digitbot-postgres-base:bookworm postgresql,ca-certificates &
wait -n && wait -n
