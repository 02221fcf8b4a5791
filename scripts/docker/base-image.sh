#!/usr/bin/env bash
# Makes the base image debian:bookworm-slim available to the local Docker engine:
#   1. present already          -> nothing to do;
#   2. `docker pull` succeeds   -> done (bounded: a registry that cannot be reached fails fast);
#   3. otherwise build it from Debian's packages: debootstrap --variant=minbase into a temporary
#      folder, slim it the way the official -slim image is slimmed (no docs, man pages, info,
#      translations; apt lists and caches emptied; the same dpkg/apt configuration, so that later
#      `apt-get install` in a Dockerfile stays slim), then `docker import` it.
# Idempotent. Needs root (debootstrap) and the debootstrap package for step 3.
# Environment: KURZ_BASE_IMAGE (default debian:bookworm-slim), KURZ_DEBIAN_MIRROR (default: the
# host's apt source for Debian, else http://deb.debian.org/debian), KURZ_BASE_FORCE=1 rebuilds
# even when the image exists, KURZ_PULL_TIMEOUT (seconds, default 60).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

image=${KURZ_BASE_IMAGE:-debian:bookworm-slim}
suite=bookworm

command -v docker >/dev/null 2>&1 || die "docker is not installed (Debian package docker.io)"
docker info >/dev/null 2>&1 || die "no Docker engine answers on ${DOCKER_HOST:-/var/run/docker.sock}: start dockerd"

if [[ ${KURZ_BASE_FORCE:-0} != 1 ]] && docker image inspect "$image" >/dev/null 2>&1; then
  say "base image $image is present ($(docker image inspect -f '{{.Id}}' "$image" | cut -c8-19)): nothing to do"
  exit 0
fi

if [[ ${KURZ_BASE_FORCE:-0} != 1 ]]; then
  say "pulling $image (at most ${KURZ_PULL_TIMEOUT:-60}s) ..."
  if timeout "${KURZ_PULL_TIMEOUT:-60}" docker pull -q "$image" >&2 2>/dev/null; then
    say "pulled $image"
    exit 0
  fi
  say "could not pull $image: building it from Debian's packages instead"
fi

((EUID == 0)) || die "building the base image needs root (debootstrap); run it with sudo"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (Debian package debootstrap)"

# The first Debian (not -security, not -updates) mirror of the host's apt sources, else the default.
host_mirror() {
  local f line uri suites
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    # deb822: one stanza per blank-line-separated block; take URIs of a stanza whose Suites has bookworm.
    awk -v RS= '/(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ {
                 if (match($0, /(^|\n)URIs:[ \t]*[^ \t\n]+/)) { s = substr($0, RSTART, RLENGTH);
                   sub(/^\n?URIs:[ \t]*/, "", s); print s; exit } }' "$f"
  done | grep -m1 -E '^https?://' && return 0
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    while read -r line; do
      read -r _ uri suites _ <<<"$line"
      [[ $suites == "$suite" && $uri =~ ^https?:// ]] && { echo "$uri"; return 0; }
    done < <(grep -E '^[[:space:]]*deb[[:space:]]' "$f" | sed 's/\[[^]]*\]//')
  done
  return 1
}
mirror=${KURZ_DEBIAN_MIRROR:-$(host_mirror || echo http://deb.debian.org/debian)}
mirror=${mirror%/}
security=${KURZ_DEBIAN_SECURITY_MIRROR:-${mirror%/debian}/debian-security}
[[ $mirror == */debian ]] || security=http://deb.debian.org/debian-security

tmp=$(mktemp -d /tmp/kurz-base.XXXXXX)
cleanup() {
  # debootstrap mounts proc/sys in the target; never leave them (or the folder) behind.
  local m
  awk -v d="$tmp/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
root=$tmp/rootfs
t0=$(date +%s)

say "debootstrap --variant=minbase $suite from $mirror (this takes a minute or two) ..."
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
  tail -n 20 "$tmp/debootstrap.log" >&2
  die "debootstrap failed"
}

say "slimming the root filesystem like the official -slim image ..."
# dpkg: keep these paths out of every later package install too (as the official image does).
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
# Slim image: no documentation, manual pages or translations (the official -slim list).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CFG
# apt: no caches of downloaded packages or indexes kept in image layers, no translations.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
# No service may start inside a build (what the official image does with policy-rc.d).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
# Remove what the exclusions would have kept out, keeping copyright files (licences).
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/{man,groff,info,linda,lintian/overrides,locale}/* 2>/dev/null || true
# Locales: only C / C.UTF-8 / POSIX (glibc's built-in and libc-bin's C.utf8).
find "$root/usr/lib/locale" -mindepth 1 -maxdepth 1 -not -name 'C.*' -exec rm -rf {} + 2>/dev/null || true
# apt sources: the same deb822 file as the official image.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
# Caches, logs and host traces that do not belong in an image.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/cache/apt/archives/partial/* "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
  "$root"/var/log/apt/* "$root"/var/log/bootstrap.log "$root"/var/log/alternatives.log \
  "$root"/var/log/dpkg.log "$root"/tmp/* "$root"/var/tmp/* "$root"/debootstrap 2>/dev/null || true
: >"$root/etc/machine-id" 2>/dev/null || true
rm -f "$root/etc/hostname" "$root/etc/resolv.conf" # Docker provides them at run time
# Docker creates /dev, /proc and /sys for each container: ship them empty.
for d in dev proc sys; do
  if ! mountpoint -q "$root/$d"; then find "$root/$d" -mindepth 1 -delete 2>/dev/null || true; fi
done

say "importing the root filesystem as $image ..."
tar --numeric-owner --xattrs --one-file-system -C "$root" -c . |
  docker import \
    --change 'CMD ["bash"]' \
    --change "LABEL org.opencontainers.image.title=\"debian\" org.opencontainers.image.version=\"$suite-slim\" org.opencontainers.image.description=\"Debian $suite minbase, slimmed; built locally by kurz scripts/docker/base-image.sh from $mirror\"" \
    --message "kurz: debootstrap --variant=minbase $suite $mirror" \
    - "$image" >/dev/null
say "built $image: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1e6}') in $(($(date +%s) - t0))s"
