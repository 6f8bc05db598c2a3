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
  # Fakes nodes and drives pods through their lifecycle for the operator's control-plane tests.
  [kwok]="sigs.k8s.io/kwok/cmd/kwok v0.8.0"
  # A real Kubernetes control plane for the operator's tests: kube-apiserver,
  # kube-controller-manager, kube-scheduler and kubectl (see WRAPPED below).
  [kube]="k8s.io/kubernetes v1.37.2"
  # etcd 3.6 for that control plane; Debian's 3.4 lacks the watch-progress requests kwok needs.
  [etcd]="go.etcd.io/etcd/server/v3 v3.6.16"
)
DEFAULT_TOOLS=(oci-conformance minio fake-gcs-server crictl containerd2 crane kwok kube etcd)

# Modules whose go.mod replaces sibling modules with local paths, which `go install pkg@version`
# refuses. They are built from a throwaway module that requires the pinned version and replaces
# each of those siblings with its published version, as "<sibling version> <link=package>...".
# Kubernetes publishes its staging modules (k8s.io/api, client-go, ...) as v0.X.Y for v1.X.Y.
declare -A WRAPPED=(
  [kube]="v0.37.2 kube-apiserver=cmd/kube-apiserver kube-controller-manager=cmd/kube-controller-manager kube-scheduler=cmd/kube-scheduler kubectl=cmd/kubectl"
  [etcd]="v3.6.16 etcd=."
)
# Without these the Kubernetes binaries report v0.0.0, and kubectl warns of a version skew.
KUBE_LDFLAGS=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  KUBE_LDFLAGS+=" -X $pkg.gitVersion=v1.37.2 -X $pkg.gitMajor=1 -X $pkg.gitMinor=37 -X $pkg.gitTreeState=clean"
done
declare -A WRAPPED_LDFLAGS=([kube]="$KUBE_LDFLAGS")

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

# Builds a WRAPPED tool into $3 (see WRAPPED above).
build_wrapped() {
  local name="$1" spec="$2" out="$3"
  local module="${spec% *}" version="${spec##* }"
  local -a parts=()
  read -ra parts <<<"${WRAPPED[$name]}"
  local sibling_version="${parts[0]}"
  local work
  work="$(mktemp -d)"
  # The target's own go.mod lists the local replaces to turn into published versions.
  local gomod
  gomod="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module@$version" |
    sed -nE 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p')"
  local go_line
  go_line="$(grep -m1 -E '^go [0-9]' "$gomod")"
  {
    echo "module kraken.local/build-$name"
    echo
    echo "$go_line"
    echo
    echo "require $module $version"
    # "<module> => ./path" or "=> ../path", inside or outside a replace block; paths to a
    # FORBIDDEN_DEPENDENCY marker only guard against imports and are dropped.
    sed -nE 's/^[[:space:]]*(replace[[:space:]]+)?([^[:space:]]+)[[:space:]]+=>[[:space:]]+\.\.?\/.*$/\2/p' "$gomod" |
      grep -v '^replace$' | while read -r sibling; do
        grep -qE "^[[:space:]]*(replace[[:space:]]+)?$sibling[[:space:]]+=>.*FORBIDDEN" "$gomod" && continue
        echo "replace $sibling => $sibling $sibling_version"
      done
  } >"$work/go.mod"
  local part link rel pkg
  local -a pkgs=()
  for part in "${parts[@]:1}"; do
    rel="${part#*=}"
    if [[ "$rel" == "." ]]; then pkg="$module"; else pkg="$module/$rel"; fi
    pkgs+=("$pkg")
  done
  (cd "$work" && go get "${pkgs[@]/%/@$version}" >/dev/null)
  for part in "${parts[@]:1}"; do
    link="${part%%=*}" rel="${part#*=}"
    if [[ "$rel" == "." ]]; then pkg="$module"; else pkg="$module/$rel"; fi
    (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "${WRAPPED_LDFLAGS[$name]:-}" -o "$out/$link" "$pkg")
  done
  rm -rf "$work"
}

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
  if [[ -n "${WRAPPED[$name]:-}" ]]; then
    local -a parts=()
    read -ra parts <<<"${WRAPPED[$name]}"
    local part built=1
    for part in "${parts[@]:1}"; do [[ -x "$dir/${part%%=*}" ]] || built=0; done
    if ((!built)); then
      command -v go >/dev/null 2>&1 || { echo "go-tools: 'go' is not on PATH" >&2; return 1; }
      echo "go-tools: building $name ($pkg@$version)"
      local tmp="$dir.tmp.$$"
      rm -rf "$tmp" && mkdir -p "$tmp"
      build_wrapped "$name" "$spec" "$tmp"
      rm -rf "$dir" && mv "$tmp" "$dir"
    fi
    for part in "${parts[@]:1}"; do
      ln -sfn "../go-tools/$name@$version/${part%%=*}" "$BIN/${part%%=*}"
      echo "go-tools: ${part%%=*} $version -> .cache/bin/${part%%=*}"
    done
    return 0
  fi
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
