#!/usr/bin/env bash
# Copies dashboards/*.json into deploy/kubernetes/base/dashboards/, where the kustomize base's
# configMapGenerator can read them (kustomize loads no file outside its kustomization root).
#
# Usage:
#   scripts/sync-kubernetes-dashboards.sh           # refresh the copies (and drop stale ones)
#   scripts/sync-kubernetes-dashboards.sh --check   # exit 1 if a copy differs, is missing or is extra
#
# A new dashboard also needs its configMapGenerator entry in deploy/kubernetes/base/kustomization.yaml;
# KubernetesManifestTests fails until the rendered ConfigMaps match dashboards/*.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/dashboards"
dst="$root/deploy/kubernetes/base/dashboards"

die() { echo "sync-kubernetes-dashboards: error: $*" >&2; exit 1; }

shopt -s nullglob
sources=("$src"/*.json)
((${#sources[@]} > 0)) || die "no dashboards in $src"

case "${1:-}" in
  --check)
    stale=0
    for f in "${sources[@]}"; do
      cmp -s "$f" "$dst/$(basename "$f")" || { echo "stale or missing: deploy/kubernetes/base/dashboards/$(basename "$f")" >&2; stale=1; }
    done
    for f in "$dst"/*.json; do
      [[ -f "$src/$(basename "$f")" ]] || { echo "extra: deploy/kubernetes/base/dashboards/$(basename "$f")" >&2; stale=1; }
    done
    ((stale == 0)) || die "deploy/kubernetes/base/dashboards is out of date: run scripts/sync-kubernetes-dashboards.sh"
    echo "sync-kubernetes-dashboards: deploy/kubernetes/base/dashboards is up to date"
    ;;
  "")
    mkdir -p "$dst"
    for f in "$dst"/*.json; do
      [[ -f "$src/$(basename "$f")" ]] || rm -f "$f"
    done
    cp "${sources[@]}" "$dst/"
    echo "sync-kubernetes-dashboards: copied ${#sources[@]} dashboards to $dst"
    ;;
  -h|--help)
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    ;;
  *)
    die "unknown argument $1 (see --help)"
    ;;
esac
