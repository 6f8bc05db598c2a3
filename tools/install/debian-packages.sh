#!/usr/bin/env bash
# Installs the Debian packages that the tests, the conformance run and the benchmarks use:
# real third-party registry, runtime and client tools to test against. Idempotent: when every
# package is already installed it returns without touching apt (well under a second).
#
# Usage: tools/install/debian-packages.sh            # install what is missing
#        tools/install/debian-packages.sh --list     # print the package names and exit
set -euo pipefail

# skopeo:          pushes/pulls/copies images through the registry API in e2e tests
# docker-registry: Debian's build of distribution 2.8, the reference registry for conformance and benchmarks
# containerd:      pulls through agents as a hosts.toml mirror in e2e tests
# iproute2:        `ss` to find listeners, `tc` to shape bandwidth in P2P tests
# apache2-utils:   `htpasswd` to make basic-auth files for the proxy's auth tests
# curl, jq:        health probes and JSON handling in shell scripts
# openssl:         makes the CA and signing certificates of the registry token-auth tests and
#                  the PKI of the e2e Kubernetes control plane
# umoci, runc:     umoci assembles the container image (npm run image); its e2e test runs it with runc
# python3-venv:    Python 3 with venv, for the Python test tools (tools/install/python-tools.sh)
PACKAGES=(skopeo docker-registry containerd iproute2 apache2-utils curl jq openssl umoci runc python3-venv)

if [[ "${1:-}" == "--list" ]]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "debian-packages: all present (${PACKAGES[*]})"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "debian-packages: missing ${missing[*]} and not running as root (no sudo)" >&2
    exit 1
  fi
fi

# Packages such as docker-registry and containerd start a service from their postinst on a
# machine with an init system. The tests start their own instances on loopback ports, so keep
# services from starting (and from holding port 5000) unless the machine already has a policy.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  created_policy=1
fi
cleanup() {
  if ((created_policy)); then "${SUDO[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

echo "debian-packages: installing ${missing[*]}"
"${SUDO[@]}" apt-get "${apt_opts[@]}" update -qq
"${SUDO[@]}" apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" </dev/null

for pkg in "${PACKAGES[@]}"; do
  printf 'debian-packages: %s %s\n' "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg")"
done
