#!/usr/bin/env bash
# shellcheck disable=SC2317 # stop_pid and cleanup run from a trap, which shellcheck cannot see
# One-command demo: 3-node JetStream cluster + demo streams and traffic + the exporter.
#
#   scripts/demo.sh            exporter polls each server's monitor port (HTTP mode)
#   scripts/demo.sh --system   exporter asks the whole cluster over one system-account connection
#
# Environment:
#   NATSJS_LISTEN     exporter listen address (default 127.0.0.1:7778)
#   NATS_SERVER_BIN   nats-server binary (default: nats-server on PATH)
#   DEMO_RATE         demo publish rate in msgs/s (default 20)
# Installs the exporter as the natsjs-exporter command (scripts/install.sh) and runs that.
# Ctrl-C stops everything this script started (the exporter gracefully, with one SIGTERM) and
# removes its temp dir.
set -euo pipefail

mode=http
for arg in "$@"; do
  case $arg in
    --system) mode=system ;;
    --http) mode=http ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument $arg (use --system or --http)" >&2; exit 2 ;;
  esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
listen=${NATSJS_LISTEN:-127.0.0.1:7778}
rate=${DEMO_RATE:-20}
export NATS_SERVER_BIN=${NATS_SERVER_BIN:-nats-server}

say() { echo "demo: $*"; }
die() { echo "demo: error: $*" >&2; exit 1; }

# shellcheck source=lib/cluster.sh
source "$repo/scripts/lib/cluster.sh"

if ! command -v "$NATS_SERVER_BIN" >/dev/null 2>&1; then
  [[ $NATS_SERVER_BIN == nats-server ]] || die "NATS_SERVER_BIN=$NATS_SERVER_BIN not found"
  say "nats-server not found, running scripts/install-deps.sh"
  if [[ $(id -u) -eq 0 ]]; then
    "$repo/scripts/install-deps.sh"
  else
    command -v sudo >/dev/null 2>&1 || die "nats-server missing; run scripts/install-deps.sh as root"
    sudo "$repo/scripts/install-deps.sh"
  fi
fi
command -v dotnet >/dev/null 2>&1 || die "dotnet not found: install the .NET 10 SDK (see scripts/install-deps.sh)"
command -v curl >/dev/null 2>&1 || die "curl not found: run scripts/install-deps.sh as root"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/natsjs-demo.XXXXXX")
bg_pids=()
cleaned=0

# Stops a background process we started and everything in its process group/children.
stop_pid() {
  local pid=$1 child
  kill -0 "$pid" 2>/dev/null || return 0
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
    kill -TERM "$child" 2>/dev/null || true
  done
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# The exporter runs in its own session, so Ctrl-C in the terminal reaches only this script; it is
# stopped here with exactly one SIGTERM (a second signal makes it exit at once, skipping the
# graceful stop) and given its grace period (3 s) and some.
exporter_pid=
stop_exporter() {
  [[ -n $exporter_pid ]] || return 0
  local pid=$exporter_pid rc=0 i
  exporter_pid=
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "exporter still running 10 s after SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || rc=$?
  say "exporter stopped (exit code $rc)"
}

cleanup() {
  ((cleaned)) && return 0
  cleaned=1
  trap - INT TERM
  echo
  say "stopping..."
  stop_exporter
  local pid
  for pid in "${bg_pids[@]}"; do stop_pid "$pid"; done
  cluster_stop "$workdir/cluster" || true
  rm -rf "$workdir"
  say "stopped, removed $workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "installing the exporter as natsjs-exporter (scripts/install.sh)"
"$repo/scripts/install.sh" || die "scripts/install.sh failed"
# The copy install.sh just checked, even if another natsjs-exporter comes first on PATH.
exporter_bin=${PREFIX:-/usr/local}/bin/natsjs-exporter

say "building demo client"
dotnet build "$repo/src/NatsJsExporter.Demo" -c Release -nologo -v q --disable-build-servers -o "$workdir/demo-bin" >"$workdir/demo-build.log" 2>&1 \
  || { cat "$workdir/demo-build.log" >&2; die "building src/NatsJsExporter.Demo failed"; }
demo=("dotnet" "$workdir/demo-bin/natsjs-demo.dll")

say "starting 3-node JetStream cluster in $workdir"
cluster_start "$workdir/cluster" 3 "$NATS_SERVER_BIN" || die "cluster did not start"

say "creating demo streams and consumers"
"${demo[@]}" setup --url "$NATS_CLIENT_URLS" --user app --password app || die "demo setup failed"

say "publishing ~$rate msg/s in the background (log: $workdir/publish.log)"
"${demo[@]}" publish --url "$NATS_CLIENT_URLS" --user app --password app --rate "$rate" >"$workdir/publish.log" 2>&1 &
bg_pids+=($!)

cat <<EOF

  NATS monitor URLs: $NATS_MONITOR_URLS
  NATS client URLs:  $NATS_CLIENT_URLS   (user app / app, system user sys / sys)
  Status page:       http://$listen/
  Metrics:           http://$listen/metrics
  Press Ctrl-C to stop everything.

EOF

if [[ $mode == system ]]; then
  # The password reaches the exporter through the environment, never the command line.
  exporter_args=(--nats-url "$NATS_CLIENT_URLS" --nats-user sys --listen "$listen")
  export NATSJS_NATS_PASSWORD=sys
else
  exporter_args=(--monitor-urls "$NATS_MONITOR_URLS" --listen "$listen")
fi
say "starting exporter ($mode mode): natsjs-exporter ${exporter_args[*]}"
if command -v setsid >/dev/null 2>&1; then
  setsid "$exporter_bin" "${exporter_args[@]}" &
else
  "$exporter_bin" "${exporter_args[@]}" &
fi
exporter_pid=$!

set +e
wait "$exporter_pid"
rc=$?
set -e
exporter_pid=
say "exporter exited with code $rc"
exit "$rc"
