#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite (built by tools/install/go-tools.sh) against one
# registry and leaves its reports in an output directory. See tools/conformance/README.md.
#
# Exit status: 0 every enabled test passed; 1 the suite found a conformance failure;
#              2 bad usage, missing binary, or the suite produced no result.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${OCI_CONFORMANCE_BIN:-$ROOT/.cache/bin/oci-conformance}"

usage() {
  cat <<'USAGE'
Usage: tools/conformance/run.sh --url URL --out DIR [options]

  --url URL          registry root, e.g. http://127.0.0.1:15000 (http: TLS off, https: TLS on)
  --insecure         https without certificate verification (self-signed test certificates)
  --out DIR          where results.yaml, junit.xml, report.html and suite.log are written
  --workflows LIST   comma-separated; only these API groups run (default: all of them)
                       pull        GET/HEAD of manifests and blobs
                       push        blob uploads (monolithic, chunked, streamed, mounts), manifest PUT
                       tags-list   GET /v2/<name>/tags/list
                       referrers   GET /v2/<name>/referrers/<digest>
                       discovery   tags-list + referrers
                       delete      DELETE of tags, manifests and blobs
                       management  same as delete
                       all         every group above
  --repo1 NAME       repository the tests push to (default conformance/repo1)
  --repo2 NAME       second repository, the source for cross-repository mounts (default conformance/repo2)
  --no-sha512        do not push or pull sha512-addressed content (the suite tests it by default)
  --filter PREFIX    run only tests whose name starts with PREFIX (OCI_FILTER_TEST)
  --seed-via URL     for a read-only target: first push a small image to repo1 through the writable
                     registry at URL (tools/conformance/seed.mjs), then test --url with push disabled
                     against that image (OCI_RO_DATA_*); --workflows then defaults to pull,tags-list

Any other OCI_* variable in the environment reaches the suite unchanged, e.g. OCI_USERNAME,
OCI_PASSWORD, OCI_VERSION, OCI_LOG=debug, OCI_DATA_*, and the OCI_RO_DATA_* lists that a
read-only target needs (see tools/conformance/README.md).
USAGE
}

url="" out="" workflows="" insecure=0 no_sha512=0 seed_via=""
repo1="${OCI_REPO1:-}" repo2="${OCI_REPO2:-}" filter="${OCI_FILTER_TEST:-}"
while (($# > 0)); do
  case "$1" in
    --url) url="${2:?--url needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --workflows) workflows="${2:?--workflows needs a value}"; shift 2 ;;
    --repo1) repo1="${2:?--repo1 needs a value}"; shift 2 ;;
    --repo2) repo2="${2:?--repo2 needs a value}"; shift 2 ;;
    --filter) filter="${2:?--filter needs a value}"; shift 2 ;;
    --seed-via) seed_via="${2:?--seed-via needs a value}"; shift 2 ;;
    --insecure) insecure=1; shift ;;
    --no-sha512) no_sha512=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "conformance: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

# The older suite was configured by OCI_ROOT_URL; accept it so existing callers keep working.
url="${url:-${OCI_ROOT_URL:-}}"
if [[ -z "$url" || -z "$out" ]]; then
  usage >&2
  exit 2
fi
if [[ ! -x "$BIN" ]]; then
  echo "conformance: $BIN is missing; run tools/install/go-tools.sh first" >&2
  exit 2
fi

case "$url" in
  http://*) tls=disabled ;;
  https://*) if ((insecure)); then tls=insecure; else tls=enabled; fi ;;
  *) echo "conformance: --url must start with http:// or https:// (got '$url')" >&2; exit 2 ;;
esac
hostport="${url#*://}"
hostport="${hostport%%/*}"

export OCI_REGISTRY="$hostport" OCI_TLS="$tls"
# Shadow the legacy spellings so they cannot override what was resolved above.
unset OCI_ROOT_URL OCI_NAMESPACE OCI_CROSSMOUNT_NAMESPACE
[[ -n "$repo1" ]] && export OCI_REPO1="$repo1"
[[ -n "$repo2" ]] && export OCI_REPO2="$repo2"
[[ -n "$filter" ]] && export OCI_FILTER_TEST="$filter"
((no_sha512)) && export OCI_DATA_SHA512=false

if [[ -n "$seed_via" ]]; then
  workflows="${workflows:-pull,tags-list}"
  case ",$workflows," in
    *,push,* | *,all,*) echo "conformance: --seed-via is for read-only targets; drop push from --workflows" >&2; exit 2 ;;
  esac
  node_bin="$ROOT/node_modules/.bin/node"
  [[ -x "$node_bin" ]] || node_bin=node
  echo "conformance: seeding ${OCI_REPO1:-conformance/repo1} through $seed_via"
  seed_env="$("$node_bin" "$ROOT/tools/conformance/seed.mjs" --url "$seed_via" --repo "${OCI_REPO1:-conformance/repo1}" --tag "conformance-seed")"
  eval "$seed_env"
  echo "$seed_env"
  # Only the read-only branch: with push disabled, the suite's blob tests record a status for data
  # they never created and the suite then crashes while writing results.yaml.
  export OCI_FILTER_TEST="${OCI_FILTER_TEST:-OCI Conformance Test/read-only}"
fi

if [[ -n "$workflows" ]]; then
  pull=false push=false tags_list=false referrers=false delete=false
  IFS=',' read -r -a groups <<<"$workflows"
  for group in "${groups[@]}"; do
    case "$group" in
      pull) pull=true ;;
      push) push=true ;;
      tags-list) tags_list=true ;;
      referrers) referrers=true ;;
      discovery) tags_list=true referrers=true ;;
      delete | management) delete=true ;;
      all) pull=true push=true tags_list=true referrers=true delete=true ;;
      *) echo "conformance: unknown workflow '$group'" >&2; usage >&2; exit 2 ;;
    esac
  done
  export OCI_API_PULL="$pull" OCI_API_PUSH="$push" OCI_API_TAGS_LIST="$tags_list" OCI_API_REFERRER="$referrers"
  export OCI_API_TAGS_DELETE="$delete" OCI_API_MANIFESTS_DELETE="$delete" OCI_API_BLOBS_DELETE="$delete"
  # Without push there is nothing to upload-cancel or mount; keep those groups consistent.
  if [[ "$push" == false ]]; then export OCI_API_BLOBS_MOUNT_ANONYMOUS=false OCI_API_BLOBS_UPLOAD_CANCEL=false; fi
  # Unset legacy toggles so they cannot re-enable a group (the suite reads them before OCI_API_*).
  unset OCI_TEST_PULL OCI_TEST_PUSH OCI_TEST_CONTENT_DISCOVERY OCI_TEST_CONTENT_MANAGEMENT
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
export OCI_RESULTS_DIR="$out"
rm -f "$out/results.yaml" "$out/junit.xml" "$out/report.html"

echo "conformance: $url workflows=${workflows:-all} results=$out"
# Run inside the output directory: the suite also loads ./oci-conformance.yaml when present, and
# that must never be a stray file from the caller's working directory.
set +e
(cd "$out" && "$BIN") >"$out/suite.log" 2>&1 </dev/null
status=$?
set -e

# The suite exits 0 when it cannot even load its configuration, so judge by what it wrote.
result="$(sed -n 's/^OCI Conformance Result: //p' "$out/suite.log" | tail -n1)"
if [[ ! -s "$out/results.yaml" || -z "$result" ]]; then
  echo "conformance: the suite produced no result (exit $status); last lines of $out/suite.log:" >&2
  tail -n 20 "$out/suite.log" >&2
  exit 2
fi

# Print the summary tables (counts, API and data conformance), not the per-test tree.
sed -n '/^OCI Conformance Result:/,$p' "$out/suite.log"
if [[ "$result" == "Pass" && $status -eq 0 ]]; then
  echo "conformance: PASS (reports in $out)"
  exit 0
fi
echo "conformance: $result — failed tests:" >&2
grep -E 'msg="failed test"' "$out/suite.log" | sed -E 's/.*name="([^"]*)".*/  \1/' | head -n 60 >&2 || true
echo "conformance: reports in $out (report.html has each request and response)" >&2
exit 1
