#!/usr/bin/env bash
# Whole-process benchmark: builds the exporter and the harness (Release), then for each stream
# count generates the synthetic cluster, serves its /jsz and /varz on 127.0.0.1, runs the real
# exporter against it and prints cycle time, CPU per cycle vs System.Text.Json, RSS, exposition
# size and /metrics latency with 4 concurrent scrapers.
#   bench/run.sh                      # 100, 1000 and 10000 streams, 1 account
#   bench/run.sh 10000 --accounts 100 --cycles 30
#   BENCH_NO_BUILD=1 bench/run.sh 1000
# Micro-benchmarks (BenchmarkDotNet): dotnet run -c Release --project bench/NatsJsExporter.Benchmarks -- --filter '*'
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
  dotnet build -c Release src/NatsJsExporter -v q -nologo >/dev/null
  dotnet build -c Release bench/NatsJsExporter.Benchmarks -v q -nologo >/dev/null
fi
harness=bench/NatsJsExporter.Benchmarks/bin/Release/net10.0/NatsJsExporter.Benchmarks.dll
sizes=()
while [[ $# -gt 0 && "$1" != --* ]]; do sizes+=("$1"); shift; done
[[ ${#sizes[@]} -eq 0 ]] && sizes=(100 1000 10000)
for n in "${sizes[@]}"; do
  echo "=== $n streams ==="
  extra=()
  # A poll of 10,000 streams moves ~200 MB of JSON: give it room (the timeout may not exceed the interval).
  if [[ $n -ge 10000 ]]; then
    [[ " $* " == *" --interval "* ]] || extra+=(--interval 8)
    [[ " $* " == *" --cycles "* ]] || extra+=(--cycles 30)
  fi
  dotnet "$harness" cycle --streams "$n" "${extra[@]}" "$@"
done
