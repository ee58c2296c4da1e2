#!/usr/bin/env bash
# Fetches newer nats-server releases from Debian's newer suites for the version-matrix tests,
# without touching the machine's apt configuration: a private apt configuration whose sources
# are this machine's own Debian sources with the suite name swapped, `apt-get download`, then
# `dpkg -x` into .cache/nats-server/<suite>/. Prints each binary and its version.
#   scripts/fetch-nats-servers.sh [suite ...]      (default: trixie sid)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$repo/.cache/nats-server"
suites=("$@")
((${#suites[@]})) || suites=(trixie sid)

die() { echo "fetch-nats-servers: error: $*" >&2; exit 1; }

# The machine's own Debian archive URI (deb822 .sources or one-line sources.list), main archive only.
debian_uri() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/ && $i ~ /\/debian\/?$/) { print $i; exit } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  return 1
}

uri=$(debian_uri) || die "no Debian archive found in /etc/apt/sources.list{,.d}; cannot derive sources for ${suites[*]}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f $keyring ]] || die "$keyring missing (package debian-archive-keyring)"

binary_in() {
  local d
  for d in usr/sbin usr/bin; do
    [[ -x $1/$d/nats-server ]] && { echo "$1/$d/nats-server"; return 0; }
  done
  return 1
}

for suite in "${suites[@]}"; do
  dest="$cache/$suite"
  if bin=$(binary_in "$dest"); then
    echo "fetch-nats-servers: $suite: $bin ($("$bin" --version))"
    continue
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/natsjs-apt-$suite.XXXXXX")
  mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/cache/archives/partial" "$work/download"
  cat >"$work/sources.list.d/$suite.sources" <<SRC
Types: deb
URIs: $uri
Suites: $suite
Components: main
Signed-By: $keyring
SRC
  apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/sources.list.d"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Get::List-Cleanup=0"
    -o "Debug::NoLocking=1" -o "Acquire::Languages=none")
  apt-get "${apt_opts[@]}" -qq update >"$work/update.log" 2>&1 \
    || die "apt-get update for suite $suite failed (see below)"$'\n'"$(tail -5 "$work/update.log")"
  (cd "$work/download" && apt-get "${apt_opts[@]}" -qq download nats-server >"$work/download.log" 2>&1) \
    || die "apt-get download nats-server from $suite failed:"$'\n'"$(tail -5 "$work/download.log")"
  deb=$(find "$work/download" -maxdepth 1 -name 'nats-server_*.deb' -print -quit)
  mkdir -p "$dest"
  dpkg -x "$deb" "$dest"
  rm -rf "$work"
  bin=$(binary_in "$dest") || die "the $suite package has no nats-server binary"
  echo "fetch-nats-servers: $suite: $bin ($("$bin" --version))"
done
