#!/usr/bin/env bash
# Installs what the NatsJsExporter demo and fixture scripts need on Debian bookworm.
# Idempotent: does nothing when everything is already installed. Run as root.
set -euo pipefail

# chromium: the status page's real-browser test (Playwright drives Debian's binary; nothing is downloaded)
# Linters for scripts/lint.sh: shellcheck and yamllint
pkgs=(nats-server prometheus prometheus-alertmanager curl chromium shellcheck yamllint)

die() { echo "install-deps: error: $*" >&2; exit 1; }

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    die "missing packages: ${missing[*]}; run this script as root (e.g. sudo $0)"
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian/Ubuntu only"
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
else
  echo "install-deps: ${pkgs[*]} already installed"
fi

# kubectl with kustomize v5 (kubectl 1.27 or later) renders deploy/kubernetes for KubernetesManifestTests.
# No Debian package provides one (bookworm's kubernetes-client is kubectl 1.20 with kustomize v2, too old
# to render the manifests), so it is checked, not installed; without it that test fails saying so.
if ! kubectl version --client 2>/dev/null | grep -q '^Kustomize Version: v5'; then
  echo "install-deps: warning: kubectl 1.27+ (kustomize v5) not found; KubernetesManifestTests will fail: install kubectl from the Kubernetes project's packages or set KUBECTL" >&2
fi

if ! command -v dotnet >/dev/null 2>&1; then
  die "dotnet not found: install the .NET 10 SDK (https://learn.microsoft.com/dotnet/core/install/linux-debian) and make sure 'dotnet' is on PATH"
fi
if ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  die "dotnet found ($(command -v dotnet)) but no .NET 10 SDK is installed (dotnet --list-sdks)"
fi
echo "install-deps: ok ($(nats-server --version 2>/dev/null || echo 'nats-server ?'), dotnet $(dotnet --version))"
