#!/usr/bin/env bash
# Installs the Python tools that tests run, at pinned versions from PyPI, each in its own
# virtual environment: .cache/venv/<name>@<version>/, linked as .cache/bin/<name>. Every
# package is pinned with its hashes in tools/install/python/<name>.txt; a rerun with the same
# pins only checks that the tool runs.
#
# Usage: tools/install/python-tools.sh               # install the default tools
#        tools/install/python-tools.sh NAME...       # install the named tools
#        tools/install/python-tools.sh --list        # print name and pinned version
# PYTHON selects the interpreter (default python3; 3.11 or newer, with the venv module).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache"
BIN="$CACHE/bin"
LOCKS="$ROOT/tools/install/python"
PYTHON="${PYTHON:-python3}"

# name -> version; the lock file tools/install/python/<name>.txt pins it and everything it needs.
declare -A TOOLS=(
  # API fuzzing from OpenAPI documents: e2e/src/api-fuzz.test.ts runs it against docs/api/.
  [schemathesis]="4.32.5"
)
DEFAULT_TOOLS=(schemathesis)

if [[ "${1:-}" == "--list" ]]; then
  for name in "${!TOOLS[@]}"; do printf '%s %s\n' "$name" "${TOOLS[$name]}"; done | sort
  exit 0
fi

if (($# > 0)); then wanted=("$@"); else wanted=("${DEFAULT_TOOLS[@]}"); fi

install_tool() {
  local name="$1"
  local version="${TOOLS[$name]:-}"
  if [[ -z "$version" ]]; then
    echo "python-tools: unknown tool '$name' (see --list)" >&2
    return 1
  fi
  local lock="$LOCKS/$name.txt"
  if ! grep -qx "$name==$version \\\\" "$lock"; then
    echo "python-tools: $lock does not pin $name==$version; regenerate it (see its header)" >&2
    return 1
  fi
  local dir="$CACHE/venv/$name@$version"
  local sum
  sum="$(sha256sum "$lock" | cut -d' ' -f1)"
  # The stamp is written last: a venv without it (an interrupted install) is built again, and
  # so is one whose interpreter went away (the tool no longer runs).
  if [[ "$(cat "$dir/.lock-sha256" 2>/dev/null)" != "$sum" ]] || ! "$dir/bin/$name" --version >/dev/null 2>&1; then
    command -v "$PYTHON" >/dev/null 2>&1 || { echo "python-tools: '$PYTHON' is not on PATH" >&2; return 1; }
    if ! "$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "python-tools: $PYTHON must be Python 3.11 or newer with venv (Debian: python3-venv)" >&2
      return 1
    fi
    echo "python-tools: installing $name $version ($("$PYTHON" --version))"
    # A virtual environment is not relocatable (its scripts name its interpreter by absolute
    # path), so it is built in place.
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      --require-hashes --only-binary :all: -r "$lock"
    echo "$sum" >"$dir/.lock-sha256"
  fi
  # Relative, so the link survives moving the checkout (the venv itself is rebuilt then).
  ln -sfn "../venv/$name@$version/bin/$name" "$BIN/$name"
  echo "python-tools: $name $version -> .cache/bin/$name"
}

mkdir -p "$BIN" "$CACHE/venv"
# Two checkouts of the same machine may install at once; serialize installs into the cache.
exec 9>"$CACHE/python-tools.lock"
flock 9
failed=0
for name in "${wanted[@]}"; do
  install_tool "$name" || failed=1
done
exit "$failed"
