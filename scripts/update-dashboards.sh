#!/usr/bin/env bash
# Regenerates dashboards/*.json from dashboards/generator/DashboardGenerator.cs.
# Also refreshes the copies in deploy/kubernetes/base/dashboards/.
# Review `git diff dashboards` afterwards and commit the generator and the JSON together.
set -euo pipefail
cd "$(dirname "$0")/.."
NATSJS_UPDATE_DASHBOARDS=1 dotnet test tests/NatsJsExporter.Tests --filter "FullyQualifiedName~DashboardGeneratorTests" "$@"
# The Kubernetes base carries copies (kustomize reads no file outside its root): refresh them too.
bash scripts/sync-kubernetes-dashboards.sh
git status --short dashboards deploy/kubernetes/base/dashboards
