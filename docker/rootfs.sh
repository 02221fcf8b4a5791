#!/usr/bin/env bash
# docker/rootfs.sh <out-dir> <binary>...
# Runs inside an image's build stage. Lays out in <out-dir> the smallest root filesystem that runs
# the given dynamically linked binaries on `FROM scratch`:
#   /usr/local/bin/<binary>      each binary, stripped
#   <every path ldd names>       the shared-library closure, the dynamic loader included, copied to
#                                the exact path the loader looks for (symlinks resolved)
#   /usr/share/doc/<pkg>/copyright  the licence of every Debian package a library came from
#   /etc/passwd, /etc/group      root and the unprivileged user kurz (uid/gid 10001)
#   /tmp                         empty, mode 1777 (compose mounts a tmpfs there where needed)
# Fails when a library cannot be found. No shell, no package manager in the result.
set -euo pipefail

out=${1:?usage: rootfs.sh <out-dir> <binary>...}
shift
(($# > 0)) || { echo "rootfs.sh: no binary given" >&2; exit 2; }

mkdir -p "$out/usr/local/bin" "$out/etc" "$out/tmp"
chmod 1777 "$out/tmp"
declare -A libs=()
for bin in "$@"; do
  [[ -x $bin ]] || { echo "rootfs.sh: not an executable: $bin" >&2; exit 1; }
  install -m 0755 "$bin" "$out/usr/local/bin/"
  strip --strip-unneeded "$out/usr/local/bin/${bin##*/}"
  ldd_out=$(ldd "$bin") || { echo "rootfs.sh: ldd failed on $bin (static binary?)" >&2; exit 1; }
  if grep -q 'not found' <<<"$ldd_out"; then
    echo "rootfs.sh: missing libraries for $bin:" >&2
    grep 'not found' <<<"$ldd_out" >&2
    exit 1
  fi
  # "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)".
  while read -r path; do libs[$path]=1; done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$ldd_out")
done

declare -A pkgs=()
for lib in "${!libs[@]}"; do
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
  pkg=$(dpkg-query -S "$lib" 2>/dev/null || dpkg-query -S "$(readlink -f "$lib")" 2>/dev/null || true)
  pkg=${pkg%%:*}
  [[ -n $pkg ]] && pkgs[$pkg]=1
done
for pkg in "${!pkgs[@]}"; do
  if [[ -f /usr/share/doc/$pkg/copyright ]]; then
    install -D -m 0644 "/usr/share/doc/$pkg/copyright" "$out/usr/share/doc/$pkg/copyright"
  fi
done

printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'kurz:x:10001:10001:kurz:/nonexistent:/sbin/nologin' \
  >"$out/etc/passwd"
printf '%s\n' 'root:x:0:' 'kurz:x:10001:' >"$out/etc/group"
chmod 0644 "$out/etc/passwd" "$out/etc/group"

echo "rootfs.sh: $* -> $out: ${#libs[@]} libraries from ${#pkgs[@]} packages, $(du -sh "$out" | cut -f1)"
