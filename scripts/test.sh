#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, runs the whole suite
# (unit, golden, WireMock faults, real nats-server cluster, promtool/amtool checks), and leaves
# natsjs-exporter on PATH (scripts/install.sh).
#   scripts/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Golden]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
# nats-server 2.10.27 and 2.15.1 for the version matrix (Debian trixie and sid packages).
bash scripts/fetch-nats-servers.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results=$(mktemp -d "${TMPDIR:-/tmp}/natsjs-test-results.XXXXXX")
trap 'rm -rf "$results"' EXIT

# Warnings are errors via Directory.Build.props (NU1603 excepted: the registry serves a newer patch).
dotnet build NatsJsExporter.sln -c Release -nologo -v quiet
# The natsjs-exporter command the README uses (Release publish linked into /usr/local/bin);
# a test runs it from PATH.
bash scripts/install.sh
status=0
dotnet test NatsJsExporter.sln -c Release --no-build --nologo \
  --logger "console;verbosity=normal" --logger trx --results-directory "$results" "$@" || status=$?

# One closing line over all test assemblies: "N passed, N failed, N skipped".
passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [[ -f $trx ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
if ((status == 0 && passed == 0)); then
  echo "test.sh: no test ran" >&2
  exit 1
fi
exit "$status"
