#!/usr/bin/env bash
# Runs the conformance suite against Debian's docker-registry (distribution 2.8) started on a free
# loopback port with throwaway filesystem storage. It is the reference point for our own results
# and a check that the harness works. Arguments after the output directory go to run.sh.
#
# Usage: tools/conformance/docker-registry.sh OUT_DIR [run.sh options, e.g. --workflows pull,push]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:?usage: tools/conformance/docker-registry.sh OUT_DIR [run.sh options]}"
shift
command -v docker-registry >/dev/null || { echo "docker-registry is missing; run tools/install/debian-packages.sh" >&2; exit 2; }
node_bin="$ROOT/node_modules/.bin/node"
[[ -x "$node_bin" ]] || node_bin=node

work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$("$node_bin" -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
cat >"$work/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/registry.log" >&2; exit 2; }
  sleep 0.1
done

set +e
"$ROOT/tools/conformance/run.sh" --url "http://127.0.0.1:$port" --out "$out" "$@"
status=$?
set -e
cp "$work/registry.log" "$out/registry.log" 2>/dev/null || true
exit "$status"
