#!/usr/bin/env bash
# Lints every shell script (shellcheck) and every YAML file (yamllint, .yamllint.yml) of the
# repository. Both are Debian packages installed by scripts/install-deps.sh. Exit 1 on any finding.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in shellcheck yamllint; do
  command -v "$tool" >/dev/null 2>&1 || { echo "lint: $tool not found: run scripts/install-deps.sh (Debian package $tool)" >&2; exit 2; }
done

mapfile -t shell_files < <(git ls-files -co --exclude-standard -- '*.sh' '.ci/run' | sort)
mapfile -t yaml_files < <(git ls-files -co --exclude-standard -- '*.yml' '*.yaml' | sort)

status=0
shellcheck -x -P SCRIPTDIR "${shell_files[@]}" || status=1
yamllint -s -c .yamllint.yml "${yaml_files[@]}" || status=1
if ((status == 0)); then
  echo "lint: ${#shell_files[@]} shell scripts and ${#yaml_files[@]} YAML files clean"
fi
exit "$status"
