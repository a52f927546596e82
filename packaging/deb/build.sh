#!/usr/bin/env bash
# Builds a Debian package of rtk with dpkg-deb (Debian's own tool; no extra crate):
#
#   packaging/deb/build.sh                       # cargo build --release, then the package in target/deb/
#   packaging/deb/build.sh --binary PATH --out DIR   # package an rtk binary already built
#
# The package: /usr/bin/rtk, a systemd unit (user rtk, data in /var/lib/rtk mode 0700, hardened),
# /etc/default/rtk for settings, docs; postinst creates the user and the directory and, where
# systemd runs, enables and starts the service.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/packaging/deb"
binary=""
out="$root/target/deb"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) shift; binary="$1" ;;
    --out) shift; out="$1" ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$binary" ]; then
  (cd "$root" && cargo build --release -p rtk-cli)
  binary="$root/target/release/rtk"
fi
[ -x "$binary" ] || { echo "no rtk binary at $binary" >&2; exit 1; }
version=$(awk -F'"' '/^version = / { print $2; exit }' "$root/Cargo.toml")
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/rtk_${version}_${arch}"

install -Dm0755 "$binary" "$pkg/usr/bin/rtk"
install -Dm0644 "$here/rtk.service" "$pkg/lib/systemd/system/rtk.service"
install -Dm0644 "$here/default" "$pkg/etc/default/rtk"
install -Dm0644 "$root/LICENSE" "$pkg/usr/share/doc/rtk/copyright"
install -Dm0644 "$root/README.md" "$pkg/usr/share/doc/rtk/README.md"
install -Dm0644 "$root/docs/operations.md" "$pkg/usr/share/doc/rtk/operations.md"
mkdir -p "$pkg/DEBIAN"
size=$(du -sk "$pkg" | cut -f1)
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: rtk
Version: $version
Architecture: $arch
Maintainer: rtk developers <rtk@localhost>
Installed-Size: $size
Depends: libc6, passwd
Section: net
Priority: optional
Homepage: file:///usr/share/doc/rtk/README.md
Description: self-hosted Cloudflare RealtimeKit control plane
 rtk serves the RealtimeKit REST API (apps, meetings, participants, sessions,
 webhooks, recordings, livestreams) with a real session engine behind it.
 SQLite by default; PostgreSQL for several nodes.
CONTROL
echo "/etc/default/rtk" >"$pkg/DEBIAN/conffiles"
install -m0755 "$here/postinst" "$pkg/DEBIAN/postinst"
install -m0755 "$here/prerm" "$pkg/DEBIAN/prerm"
install -m0755 "$here/postrm" "$pkg/DEBIAN/postrm"
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$pkg" "$out/rtk_${version}_${arch}.deb" >/dev/null
echo "$out/rtk_${version}_${arch}.deb"
