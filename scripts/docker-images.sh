#!/usr/bin/env bash
# Builds faultline's Docker fixture images with `docker import` from files on this machine
# (no registry is needed):
#   <prefix>busybox:<tag>   busybox-static and its applets (sh, httpd, nc, sleep, wget, ...)
#   <prefix>node:<tag>      the Node binary this project runs on, its shared libraries, busybox
#   <prefix>nettools:<tag>  iptables (nft), tc and their libraries + xtables modules, busybox:
#                           the helper image of the docker.partition / bandwidth / netem faults
# Usage: scripts/docker-images.sh [prefix] [tag] [label=value ...]
#   defaults: prefix "faultline/", tag "latest". Extra label=value pairs label every image.
# Idempotent: an image that exists already is kept. FAULTLINE_IMAGES="busybox nettools" limits
# which are built (default: all three).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-faultline/}
tag=${2:-latest}
shift $(( $# > 2 ? 2 : $# ))
changes=()
for kv in "$@"; do changes+=(-c "LABEL $kv"); done

busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
if [ -z "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
  echo "docker-images: busybox not found (apt-get install busybox-static)" >&2; exit 1
fi
node_bin=node_modules/node/bin/node
[ -x "$node_bin" ] || node_bin=$(command -v node)

wanted=" ${FAULTLINE_IMAGES:-busybox node nettools} "
exists() { [[ "$wanted" != *" $(basename "${1%%:*}") "* ]] || docker image inspect "$1" >/dev/null 2>&1; }

# Copies binaries and every shared library they load (per ldd) into a rootfs.
with_libs() {
  local root=$1; shift
  for bin in "$@"; do
    local real; real=$(readlink -f "$bin")
    mkdir -p "$root$(dirname "$bin")"
    cp -L "$real" "$root$bin"
    ldd "$real" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
      [ -e "$lib" ] && cp --parents -L -n "$lib" "$root" 2>/dev/null || true
    done
  done
}

base_rootfs() {
  local root=$1
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/run" "$root/var/run" "$root/proc" "$root/sys" "$root/dev"
  chmod 1777 "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
  echo "root:x:0:" > "$root/etc/group"
  [ -f /etc/protocols ] && cp /etc/protocols "$root/etc/protocols"
  return 0
}

import() {
  local root=$1 name=$2 cmd=$3
  tar -C "$root" -c . | docker import "${changes[@]}" -c "CMD $cmd" -c "ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" - "$name" >/dev/null
  echo "built $name"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! exists "${prefix}busybox:${tag}"; then
  base_rootfs "$work/busybox"
  mkdir -p "$work/busybox/www" && echo ok > "$work/busybox/www/health"
  import "$work/busybox" "${prefix}busybox:${tag}" '["/bin/sh"]'
fi

if ! exists "${prefix}node:${tag}"; then
  base_rootfs "$work/node"
  with_libs "$work/node" "$(readlink -f "$node_bin")"
  mkdir -p "$work/node/usr/local/bin"
  cp -L "$node_bin" "$work/node/usr/local/bin/node"
  import "$work/node" "${prefix}node:${tag}" '["/usr/local/bin/node"]'
fi

if ! exists "${prefix}nettools:${tag}"; then
  base_rootfs "$work/net"
  nft_multi=$(readlink -f "$(command -v iptables)")
  with_libs "$work/net" /usr/sbin/tc "$nft_multi"
  mkdir -p "$work/net/usr/sbin"
  cp -L "$nft_multi" "$work/net/usr/sbin/xtables-nft-multi"
  for n in iptables iptables-save iptables-restore; do ln -sf xtables-nft-multi "$work/net/usr/sbin/$n"; done
  rm -f "$work/net/bin/iptables" "$work/net/bin/tc"
  xt=/usr/lib/x86_64-linux-gnu/xtables
  [ -d "$xt" ] || xt=$(dirname "$(find /usr/lib /lib -name 'libxt_comment.so' 2>/dev/null | head -1)")
  mkdir -p "$work/net$xt"
  cp -L "$xt"/*.so "$work/net$xt/"
  for so in "$xt"/*.so; do
    ldd "$so" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do [ -e "$lib" ] && cp --parents -L -n "$lib" "$work/net" 2>/dev/null || true; done
  done
  [ -d /usr/lib/tc ] && mkdir -p "$work/net/usr/lib" && cp -r /usr/lib/tc "$work/net/usr/lib/tc"
  import "$work/net" "${prefix}nettools:${tag}" '["/bin/sleep","infinity"]'
fi
