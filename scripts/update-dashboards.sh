#!/usr/bin/env bash
# Regenerates dashboards/*.json from dashboards/generator/DashboardGenerator.cs.
# Review `git diff dashboards` afterwards and commit the generator and the JSON together.
set -euo pipefail
cd "$(dirname "$0")/.."
NATSJS_UPDATE_DASHBOARDS=1 dotnet test tests/NatsJsExporter.Tests --filter "FullyQualifiedName~DashboardGeneratorTests" "$@"
git status --short dashboards
