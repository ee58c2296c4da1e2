#!/usr/bin/env bash
# Regenerates tests/NatsJsExporter.Tests/testdata/golden/*.prom and *.snapshot.json from the fixtures.
# Review `git diff` afterwards and commit golden changes on their own.
set -euo pipefail
cd "$(dirname "$0")/.."
NATSJS_UPDATE_GOLDEN=1 dotnet test tests/NatsJsExporter.Tests --filter "FullyQualifiedName~GoldenTests&FullyQualifiedName~_matches_golden_file" "$@"
git status --short tests/NatsJsExporter.Tests/testdata/golden
