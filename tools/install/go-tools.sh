#!/usr/bin/env bash
# Builds the Go tools that tests and benchmarks run, at pinned versions, from the Go module proxy.
# Each tool is built once per version into .cache/go-tools/<name>@<version>/ and linked as
# .cache/bin/<name>; a rerun with the same pins only checks that the binary exists.
#
# Usage: tools/install/go-tools.sh               # build the default tools
#        tools/install/go-tools.sh NAME...       # build the named tools
#        tools/install/go-tools.sh --list        # print name, package and pinned version
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache"
BIN="$CACHE/bin"

# name -> "<main package> <version>". A version of "-" marks a hook: the entry is known but not
# pinned yet, so asking for it fails with a clear message instead of building an unpinned tool.
declare -A TOOLS=(
  # The OCI distribution-spec conformance suite. Its module has no release tags of its own (the
  # v1.1.x tags name the repository root, whose module excludes conformance/), so the proxy serves
  # only pseudo-versions; this is the newest one it serves. It tests against spec 1.1 by default.
  [oci-conformance]="github.com/opencontainers/distribution-spec/conformance v0.0.0-20260831232431-97274622c111"
  # S3-compatible server for the S3 backend tests. MinIO's RELEASE.* tags are not semver, so the
  # proxy serves only pseudo-versions; this is the newest one it serves.
  [minio]="github.com/minio/minio v0.0.0-20260212201848-7aac2a2c5b7c"
  # GCS emulator (JSON API, simple/multipart/resumable uploads) for the GCS backend tests.
  # A registry client of its own kind (go-containerregistry) for the proxy's auth tests.
  [crane]="github.com/google/go-containerregistry/cmd/crane v0.22.1"
  [fake-gcs-server]="github.com/fsouza/fake-gcs-server v1.56.1"
  # CRI client for the containerd e2e tests (pulls through containerd's image service).
  [crictl]="sigs.k8s.io/cri-tools/cmd/crictl v1.37.0"
  # containerd 2.x for the containerd e2e tests, beside Debian's /usr/bin/containerd 1.6; named
  # containerd2 so that it never shadows that one on PATH.
  [containerd2]="github.com/containerd/containerd/v2/cmd/containerd v2.2.10"
)
DEFAULT_TOOLS=(oci-conformance minio fake-gcs-server crictl containerd2 crane)

# Per-tool build environment. containerd's btrfs snapshotter needs cgo and the libbtrfs
# headers; without cgo it is left out, and nothing else the tests use needs cgo.
declare -A TOOL_ENV=(
  [containerd2]="CGO_ENABLED=0"
)
# Further main packages of the same module, built in the same `go install` (which compiles
# their shared packages once), as "<link name>=<package>": ctr 2.x, whose image pull goes
# through containerd's transfer service, which Debian's ctr 1.6 does not know.
declare -A TOOL_ALSO=(
  [containerd2]="ctr2=github.com/containerd/containerd/v2/cmd/ctr"
)

if [[ "${1:-}" == "--list" ]]; then
  for name in "${!TOOLS[@]}"; do printf '%s %s\n' "$name" "${TOOLS[$name]}"; done | sort
  exit 0
fi

if (($# > 0)); then wanted=("$@"); else wanted=("${DEFAULT_TOOLS[@]}"); fi

build_tool() {
  local name="$1"
  local spec="${TOOLS[$name]:-}"
  if [[ -z "$spec" ]]; then
    echo "go-tools: unknown tool '$name' (see --list)" >&2
    return 1
  fi
  local pkg="${spec% *}" version="${spec##* }"
  if [[ "$version" == "-" ]]; then
    echo "go-tools: '$name' ($pkg) has no pinned version yet; pin one in $0" >&2
    return 1
  fi
  local dir="$CACHE/go-tools/$name@$version"
  local -a also=() pkgs=("$pkg@$version") build_env=()
  read -ra also <<<"${TOOL_ALSO[$name]:-}"
  read -ra build_env <<<"${TOOL_ENV[$name]:-}"
  local extra built=1
  [[ -x "$dir/${pkg##*/}" ]] || built=0
  for extra in "${also[@]}"; do
    pkgs+=("${extra#*=}@$version")
    [[ -x "$dir/${extra##*/}" ]] || built=0
  done
  if ((!built)); then
    command -v go >/dev/null 2>&1 || { echo "go-tools: 'go' is not on PATH" >&2; return 1; }
    echo "go-tools: building $name ($pkg@$version)"
    local tmp="$dir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    # `go install pkg@version` builds in module mode from the proxy without a go.mod here;
    # -X main.Version records the pin in the conformance report.
    env "${build_env[@]}" GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -trimpath" \
      go install -ldflags "-X main.Version=$version" "${pkgs[@]}"
    rm -rf "$dir" && mv "$tmp" "$dir"
  fi
  # Relative, so the links survive moving the checkout.
  ln -sfn "../go-tools/$name@$version/${pkg##*/}" "$BIN/$name"
  echo "go-tools: $name $version -> .cache/bin/$name"
  for extra in "${also[@]}"; do
    local link="${extra%%=*}" extra_pkg="${extra#*=}"
    ln -sfn "../go-tools/$name@$version/${extra_pkg##*/}" "$BIN/$link"
    echo "go-tools: $link $version -> .cache/bin/$link"
  done
}

mkdir -p "$BIN"
# Two checkouts of the same machine may install at once; serialize builds of the cache.
exec 9>"$CACHE/go-tools.lock"
flock 9
# Tools build side by side: much of a cold build is waiting on module downloads and on
# single-threaded links (MinIO alone takes about 8 minutes on 2 cores), so one tool's
# download or link overlaps another's compile. Each tool's output is printed when it ends.
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
pids=()
for name in "${wanted[@]}"; do
  (build_tool "$name") >"$logs/$name.log" 2>&1 &
  pids+=("$!")
done
failed=0
for i in "${!wanted[@]}"; do
  if ! wait "${pids[$i]}"; then failed=1; fi
  cat "$logs/${wanted[$i]}.log"
done
exit "$failed"
