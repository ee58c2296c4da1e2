#!/usr/bin/env bash
# Installs the exporter as the `natsjs-exporter` command the README uses:
#   dotnet publish (Release, framework-dependent) into $PREFIX/lib/natsjs-exporter and a link
#   $PREFIX/bin/natsjs-exporter to its executable. PREFIX defaults to /usr/local (root; with sudo
#   when run as another user), e.g. PREFIX=$HOME/.local for a user install.
#
#   scripts/install.sh           publish and link (skipped when the installed copy was built
#                                from the same sources)
#   scripts/install.sh --check   exit 0 when the installed copy matches the sources, else 1
#
# scripts/demo.sh and scripts/test.sh (the README's set-up commands) run it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${PREFIX:-/usr/local}
lib=$prefix/lib/natsjs-exporter
bin=$prefix/bin/natsjs-exporter
stamp=$lib/.source-hash

say() { echo "install: $*"; }
die() { echo "install: error: $*" >&2; exit 1; }

check=0
for arg in "$@"; do
  case $arg in
    --check) check=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument $arg (use --check or nothing)" ;;
  esac
done

# What the installed copy is built from: the exporter's sources and the central build settings.
source_hash() {
  (
    cd "$repo"
    find src/NatsJsExporter \( -name bin -o -name obj \) -prune -o -type f -print
    ls Directory.Build.props Directory.Packages.props
  ) | LC_ALL=C sort | (cd "$repo" && xargs sha256sum) | sha256sum | cut -d' ' -f1
}

hash=$(source_hash)
installed=$(cat "$stamp" 2>/dev/null || true)
if ((check)); then
  if [[ $installed == "$hash" && -x $bin ]]; then
    say "$bin is up to date"
    exit 0
  fi
  echo "install: $bin is missing or older than the sources: run scripts/install.sh" >&2
  exit 1
fi
if [[ $installed == "$hash" && -x $bin && $(readlink -f "$bin") == "$lib/natsjs-exporter" ]]; then
  say "$bin is up to date"
  exit 0
fi

# /usr/local needs root: re-run with sudo when there is one, else say how to install elsewhere.
mkdir -p "$prefix/lib" "$prefix/bin" 2>/dev/null || true
if [[ ! -w $prefix/lib || ! -w $prefix/bin ]]; then
  if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
    say "$prefix is not writable; running with sudo"
    exec sudo --preserve-env=PREFIX,PATH,DOTNET_CLI_TELEMETRY_OPTOUT,DOTNET_NOLOGO "$0" "$@"
  fi
  die "$prefix/lib or $prefix/bin is not writable: run as root, or PREFIX=\$HOME/.local $0"
fi
command -v dotnet >/dev/null 2>&1 || die "dotnet not found: install the .NET 10 SDK (see scripts/install-deps.sh)"

# Publish next to the old copy, then swap: a running exporter keeps its files.
staging=$(mktemp -d "$prefix/lib/.natsjs-exporter.XXXXXX")
trap 'rm -rf "$staging"' EXIT
say "publishing src/NatsJsExporter (Release, framework-dependent) to $lib"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet publish "$repo/src/NatsJsExporter" -c Release --no-self-contained -p:UseAppHost=true \
  -o "$staging/out" -nologo -v quiet >"$staging/publish.log" 2>&1 \
  || { cat "$staging/publish.log" >&2; die "dotnet publish failed"; }
[[ -x $staging/out/natsjs-exporter ]] || die "dotnet publish made no natsjs-exporter executable in $staging/out"
echo "$hash" >"$staging/out/.source-hash"
chmod -R a+rX "$staging/out"
if [[ -d $lib ]]; then
  rm -rf "$lib.old"
  mv "$lib" "$lib.old"
fi
mv "$staging/out" "$lib"
rm -rf "$lib.old"
ln -sfn "$lib/natsjs-exporter" "$bin"
say "installed $bin -> $lib/natsjs-exporter"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) say "note: $prefix/bin is not on PATH; add it to run natsjs-exporter by name" ;;
esac
