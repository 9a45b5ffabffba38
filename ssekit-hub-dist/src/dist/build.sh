#!/usr/bin/env bash
# Builds the hub's distributions (the Maven module ssekit-hub-dist runs it at package):
#   ssekit-hub-VERSION-linux-x64.tar.gz  a jlink'd Java runtime, the hub and bin/ssekit-hub
#   ssekit-hub_DEBVERSION_amd64.deb      the same under /usr/lib/ssekit-hub, with a systemd unit,
#                                        /etc/ssekit-hub/hub.env and a system user ssekit-hub
# Usage: build.sh VERSION JDK_HOME LIB_DIR OUT_DIR
#   LIB_DIR holds the hub jar (ssekit-hub-VERSION.jar, runnable: its Class-Path names lib/*) and
#   every runtime dependency; OUT_DIR gets the two files and their unpacked trees.
set -euo pipefail
umask 022 # file modes in the tar.gz and the .deb must not depend on the builder's umask (dpkg-deb refuses a DEBIAN directory below 0755)
version=$1 jdk=$2 lib=$3 out=$4
src=$(cd "$(dirname "$0")/.." && pwd)

# The JDK modules the hub and its dependencies use, written out (jdeps takes long). From
#   jdeps --ignore-missing-deps --print-module-deps --multi-release 25 --module-path LIB_DIR --add-modules ALL-MODULE-PATH
# which prints java.base, java.naming, java.net.http, java.sql (it brings java.logging), jdk.management
# (it brings java.management) and jdk.unsupported, and java.compiler and jdk.httpserver, left out:
# annotations only, and an adapter of ssekit-core the hub does not load. Added: jdk.jfr (jdeps on
# Lettuce's jar alone names it: its events) and jdk.naming.dns (Netty finds DNS servers through JNDI,
# by class name). keytool, which --tls self-signed runs, comes with java.base. Added too: jdk.crypto.ec,
# a service jdeps cannot see: up to JDK 21 it holds the SunEC provider (ES256/ES384 and EdDSA tokens,
# EC certificates, TLS 1.3's x25519 and P-256 key exchange); from JDK 22 SunEC is in java.base and the
# module is empty, but still there.
modules=java.base,java.logging,java.management,java.naming,java.net.http,java.sql,jdk.crypto.ec,jdk.jfr,jdk.management,jdk.naming.dns,jdk.unsupported

[ -x "$jdk/bin/jlink" ] || { echo "build.sh: $jdk/bin/jlink is missing: the hub's runtime is made by a JDK's jlink" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "build.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }

name=ssekit-hub-$version
tree=$out/$name
rm -rf "$tree" "$out/deb-root"
mkdir -p "$tree/bin" "$tree/app/lib"

# the runtime: only those modules, no debug symbols, headers or man pages
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress zip-6 \
    --output "$tree/runtime"

# the hub: its runnable jar as app/ssekit-hub.jar, its dependencies in app/lib (the manifest's Class-Path)
for jar in "$lib"/*.jar; do
    case $(basename "$jar") in
        "ssekit-hub-$version.jar") cp "$jar" "$tree/app/ssekit-hub.jar" ;;
        *) cp "$jar" "$tree/app/lib/" ;;
    esac
done
[ -f "$tree/app/ssekit-hub.jar" ] || { echo "build.sh: $lib/ssekit-hub-$version.jar is missing" >&2; exit 1; }
install -m 0755 "$src/dist/ssekit-hub" "$tree/bin/ssekit-hub"

# the same bytes for everyone: owner root, names sorted, one timestamp (the last commit's, when known)
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)}
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$out" -czf "$out/$name-linux-x64.tar.gz" "$name"

# the Debian package: /usr/lib/ssekit-hub, /usr/bin/ssekit-hub, the unit, the configuration
debversion=${version//-/\~} # 0.1.0-SNAPSHOT sorts before 0.1.0 as 0.1.0~SNAPSHOT
root=$out/deb-root
mkdir -p "$root/usr/lib" "$root/usr/bin" "$root/usr/lib/systemd/system" "$root/etc/ssekit-hub" "$root/DEBIAN"
cp -a "$tree" "$root/usr/lib/ssekit-hub"
ln -s ../lib/ssekit-hub/bin/ssekit-hub "$root/usr/bin/ssekit-hub"
install -m 0644 "$src/deb/ssekit-hub.service" "$root/usr/lib/systemd/system/ssekit-hub.service"
install -m 0600 "$src/deb/hub.env" "$root/etc/ssekit-hub/hub.env"
install -m 0755 "$src/deb/postinst" "$src/deb/prerm" "$src/deb/postrm" "$root/DEBIAN/"
install -m 0644 "$src/deb/conffiles" "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@SIZE@/$size/" "$src/deb/control" > "$root/DEBIAN/control"
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums" # conffiles have theirs apart
find "$root" -exec touch -h -d "@$epoch" {} +
# gzip: the runtime is compressed already, xz would take long for little
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zgzip --build "$root" "$out/ssekit-hub_${debversion}_amd64.deb" >/dev/null
echo "build.sh: $out/$name-linux-x64.tar.gz and $out/ssekit-hub_${debversion}_amd64.deb"
