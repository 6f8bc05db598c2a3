/**
 * Every error code the project raises or puts on the wire, in one place, with what it
 * means. A code is never reused for another meaning and belongs to one error class
 * (tools/check-error-codes.mjs checks that); the lib named in each group owns it.
 * Codes cross process boundaries in `/v1/` error bodies, so renaming one is a wire
 * change. A remote that answers an error status without a /v1/ error body yields a
 * RemoteApiError coded `KRAKEN_HTTP_<status>`, outside the catalogue.
 */
export const errorCatalogue = {
  // foundation and service-kit: process plumbing and the /v1/ conventions
  KRAKEN_CONFIG_INVALID: 'A configuration file is missing, unreadable, not YAML, or fails its schema.',
  KRAKEN_INVALID_REQUEST: 'A /v1/ request is malformed: a bad parameter, header or body.',
  KRAKEN_INVALID_RESPONSE:
    'A remote /v1/ endpoint answered with a body that is too large, not JSON or off-contract.',
  KRAKEN_SERVICE_UNREACHABLE:
    'A remote service could not be reached, or the exchange broke before an answer.',
  KRAKEN_HTTP_TIMEOUT:
    'A remote service did not start its answer within the time allowed, or paused in its body for longer.',
  KRAKEN_INTERNAL: 'An unexpected server error; the body carries no detail.',
  KRAKEN_REQUEST_ABORTED: 'The client went away before its request body was complete.',
  KRAKEN_IDENTITY_FORBIDDEN:
    'A write (PUT, POST, PATCH, DELETE) from a client whose verified certificate names no identity allowed to write, or from a client without one.',

  // oci-content: the content model
  KRAKEN_INVALID_DIGEST: 'A digest string is malformed or uses an unsupported algorithm.',
  KRAKEN_DIGEST_MISMATCH: 'Content hashes to another digest than the one it was declared with.',
  KRAKEN_SIZE_MISMATCH: 'Content has another byte count than the one it was declared with.',
  KRAKEN_CONTENT_TOO_LARGE: 'Content is larger than the limit configured for it.',
  KRAKEN_INVALID_MANIFEST: 'A manifest or index document that cannot be parsed.',
  KRAKEN_INVALID_REPOSITORY_NAME: 'A repository name outside the distribution spec grammar.',
  KRAKEN_INVALID_TAG: 'A tag outside the distribution spec grammar.',

  // hashring
  KRAKEN_INVALID_RING_MEMBER: 'A ring member address or weight that cannot be used.',
  KRAKEN_NO_HEALTHY_NODE: 'The ring has no node, or no healthy node, for the key.',
  KRAKEN_MEMBERSHIP_RESOLVE_FAILED:
    'DNS lookup of the ring membership failed; the previous members stay in use.',
  KRAKEN_HEALTH_PROBE_FAILED: 'A ring member failed its health probe.',
  KRAKEN_FAILOVER_EXHAUSTED: 'Every ring member tried for a request failed.',

  // storage-backends
  KRAKEN_OBJECT_NOT_FOUND: 'No object under this key in the storage backend.',
  KRAKEN_INVALID_KEY: 'An object key that is empty, escapes its root, or is reserved.',
  KRAKEN_KEY_CONFLICT: 'An object key collides with a directory or another object.',
  KRAKEN_INVALID_RANGE: 'A byte range outside the object.',
  KRAKEN_STORAGE_UNAVAILABLE: 'The storage backend failed or is unreachable.',
  KRAKEN_READ_ONLY_BACKEND: 'A write to a backend configured read-only.',
  KRAKEN_NO_BACKEND_FOR_NAMESPACE: 'No backend is configured for the namespace.',
  KRAKEN_BACKEND_TIMEOUT: 'A backend request took longer than its timeout.',
  KRAKEN_UPSTREAM_RESPONSE: 'An upstream registry or HTTP backend answered something unexpected.',
  KRAKEN_REGISTRY_AUTH: 'An upstream registry refused our credentials or token.',
  KRAKEN_WRITE_BACK_SOURCE_MISSING: 'A queued write-back whose source file is gone.',
  KRAKEN_CORRUPT_BACKEND_CONTENT: 'Content read from a backend does not match its digest.',

  // registry-api: the OCI distribution surface (mapped to spec codes in one place)
  KRAKEN_REGISTRY_NAME_INVALID: 'NAME_INVALID: invalid repository name.',
  KRAKEN_REGISTRY_NAME_UNKNOWN: 'NAME_UNKNOWN: repository not known to the registry.',
  KRAKEN_REGISTRY_TAG_INVALID: 'TAG_INVALID: the manifest tag is invalid.',
  KRAKEN_REGISTRY_BLOB_UNKNOWN: 'BLOB_UNKNOWN: blob unknown to the registry.',
  KRAKEN_REGISTRY_MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN: manifest unknown.',
  KRAKEN_REGISTRY_MANIFEST_BLOB_UNKNOWN: 'MANIFEST_BLOB_UNKNOWN: a manifest references an unknown blob.',
  KRAKEN_REGISTRY_MANIFEST_TOO_LARGE: 'SIZE_INVALID: the manifest exceeds the size limit.',
  KRAKEN_REGISTRY_UPLOAD_UNKNOWN: 'BLOB_UPLOAD_UNKNOWN: no such upload session.',
  KRAKEN_REGISTRY_UPLOAD_INVALID: 'BLOB_UPLOAD_INVALID: the upload is invalid.',
  KRAKEN_REGISTRY_RANGE_INVALID: 'RANGE_INVALID: a chunk out of order or an unsatisfiable range.',
  KRAKEN_REGISTRY_PAGINATION_INVALID: 'PAGINATION_NUMBER_INVALID: bad pagination parameters.',
  KRAKEN_REGISTRY_UNSUPPORTED: 'UNSUPPORTED: the operation is not supported here.',
  KRAKEN_REGISTRY_ENDPOINT_NOT_FOUND: 'NOT_FOUND: no such registry endpoint.',
  KRAKEN_REGISTRY_OPTIONS_INVALID: 'Registry API options that cannot be used.',
  KRAKEN_REGISTRY_UNAUTHORIZED: 'UNAUTHORIZED: authentication required.',
  KRAKEN_REGISTRY_DENIED: 'DENIED: access to the resource is denied.',
  KRAKEN_REGISTRY_TOO_MANY_REQUESTS: 'TOOMANYREQUESTS: the client is rate limited.',
  KRAKEN_REGISTRY_AUTH_CONFIG_INVALID:
    'An auth file of the registry (htpasswd, groups, token public key) that cannot be used; names the file and line, never a secret.',

  // p2p-core: the peer side of the swarm
  KRAKEN_P2P_FRAME_TOO_LARGE: 'A frame longer than the hard limit for its type.',
  KRAKEN_P2P_BAD_FRAME_LENGTH: 'A frame length that does not fit its message type.',
  KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE: 'A frame of a message type this version does not know.',
  KRAKEN_P2P_MALFORMED_MESSAGE: 'A message whose fields cannot be decoded.',
  KRAKEN_P2P_HANDSHAKE_EXPECTED: 'The first frame of a connection was not a handshake.',
  KRAKEN_P2P_DUPLICATE_HANDSHAKE: 'A second handshake on one connection.',
  KRAKEN_P2P_VERSION_MISMATCH: 'The peer speaks another protocol version.',
  KRAKEN_P2P_UNKNOWN_CLUSTER: 'The peer belongs to another cluster.',
  KRAKEN_P2P_TRUNCATED_FRAME: 'The connection ended inside a frame.',
  KRAKEN_P2P_INVALID_METAINFO: 'Metainfo whose fields contradict each other.',
  KRAKEN_P2P_INVALID_PIECE_INDEX: 'A piece index outside the blob.',
  KRAKEN_P2P_INVALID_BITFIELD: 'A bitfield of the wrong length or with spare bits set.',
  KRAKEN_P2P_BAD_PIECE: 'A piece that fails its hash.',
  KRAKEN_P2P_HASH_UNAVAILABLE: 'This node cannot run the chained sha256 that the metainfo names.',
  KRAKEN_P2P_PIECE_NOT_AVAILABLE: 'A piece this side does not hold was asked for.',
  KRAKEN_P2P_PARTIAL_BLOB_INCOMPLETE: 'A partial blob completed before every piece arrived.',
  KRAKEN_P2P_PARTIAL_BLOB_CLOSED: 'A partial blob used after it was closed.',
  KRAKEN_P2P_TOKEN_QUEUE_FULL: 'Too many waiters on a bandwidth token bucket.',
  KRAKEN_P2P_TOKEN_BUCKET_CLOSED: 'A bandwidth token bucket used after it was closed.',
  KRAKEN_P2P_DOWNLOAD_UNVERIFIED: 'A downloaded blob failed its full-digest verification.',
  KRAKEN_P2P_SWARM_STOPPED: 'The swarm of the blob stopped before the download finished.',
  KRAKEN_P2P_HANDSHAKE_TIMEOUT: 'The peer sent no valid handshake in time.',
  KRAKEN_P2P_IDLE_TIMEOUT: 'Nothing arrived from the peer within the idle timeout.',
  KRAKEN_P2P_PEER_CLOSED: 'The peer ended the connection.',
  KRAKEN_P2P_SOCKET_ERROR: 'The socket failed (reset, refused, unreachable).',
  KRAKEN_P2P_CLOSED_LOCALLY: 'This side closed the connection.',
  KRAKEN_P2P_DUPLICATE_CONNECTION: 'Another connection to the same peer was kept instead.',
  KRAKEN_P2P_TOO_MANY_CONNECTIONS: 'The connection limit was reached.',
  KRAKEN_P2P_SELF_CONNECTION: 'The handshake carried this peer’s own id.',
  KRAKEN_P2P_UNEXPECTED_PEER: 'A dialed peer answered with another peer id.',
  KRAKEN_P2P_PEER_REFUSED:
    'A peer did not prove membership of the cluster (TLS verification or the cluster token challenge) before the handshake.',
  KRAKEN_P2P_MANAGER_CLOSED: 'The connection manager is closed.',
  KRAKEN_P2P_ALREADY_LISTENING: 'The connection manager already listens.',

  // origin
  KRAKEN_BLOB_NOT_FOUND: 'No origin holds a blob with this digest.',
  KRAKEN_RANGE_NOT_SATISFIABLE: 'A requested byte range lies outside the blob.',
  KRAKEN_UPLOAD_NOT_FOUND: 'No upload session with this id (never created, committed, cancelled or expired).',
  KRAKEN_UPLOAD_OUT_OF_ORDER: 'A chunk that does not start where the upload ends.',
  KRAKEN_UPLOAD_BUSY: 'Another request is writing to the same upload session.',
  KRAKEN_TOO_MANY_UPLOADS: 'The origin holds as many open upload sessions as configured.',
  KRAKEN_REPLICATION_QUORUM: 'Too few origins took a copy of a blob to acknowledge its upload.',
  KRAKEN_METAINFO_BUSY: 'Too many metainfo computations are running; retry later.',
  KRAKEN_NOT_READY: 'The service is not ready yet (starting, or a dependency is down).',
  KRAKEN_UPSTREAM_UNKNOWN:
    'A request names an upstream registry that the origin is not configured to mirror.',
  KRAKEN_UPSTREAM_TAG_NOT_FOUND: 'The upstream registry has no such repository or tag.',
  KRAKEN_UPSTREAM_UNAVAILABLE:
    'The upstream registry failed or could not be reached, and no earlier answer may be served in its place.',
  KRAKEN_UPSTREAM_CREDENTIALS_INVALID: 'An upstream credentials file is missing, unreadable or malformed.',

  // build-index
  KRAKEN_TAG_NOT_FOUND: 'No such tag in the repository.',
  KRAKEN_MANIFEST_NOT_FOUND: 'The manifest is not a member of the repository.',
  KRAKEN_REPOSITORY_NOT_FOUND: 'No such repository.',
  KRAKEN_TAG_REJECTED: 'A tag write refused because its manifest or blobs are missing.',
  KRAKEN_MANIFEST_REJECTED: 'A manifest record refused because its content is missing.',
  KRAKEN_INVALID_MANIFEST_RECORD: 'A manifest record that contradicts itself.',
  KRAKEN_BUILD_INDEX_CORRUPT_STATE: 'Stored build-index state that cannot be parsed.',
  KRAKEN_INVALID_REPLICATION_RULE: 'A replication rule that fails its schema (bad regex, unknown key, ...).',
  KRAKEN_REPLICATION_RULE_EXISTS: 'A replication rule with this name exists already.',
  KRAKEN_REPLICATION_RULE_PROTECTED: 'A replication rule from the config file, changed through the API.',
  KRAKEN_REPLICATION_RULE_NOT_FOUND: 'No replication rule with this name.',
  KRAKEN_REPLICATION_SOURCE_MISSING:
    'Content a replication task must copy is missing on the local origins or build-index.',
  KRAKEN_REPLICATION_DESTINATION_IS_SELF: "A replication rule's destination is the cluster it runs in.",

  // tracker
  KRAKEN_METAINFO_NOT_FOUND: 'No origin holds the blob whose metainfo was asked for.',

  // agent
  KRAKEN_BLOB_NOT_CACHED: 'The agent has neither the blob nor a download of it.',
  KRAKEN_CONTAINERD_SETUP_USAGE:
    '`kraken agent setup-containerd` was given a bad flag, registry name or mirror URL.',
  KRAKEN_CONTAINERD_CONFIG_INVALID:
    "containerd's config.toml cannot be read, is not TOML, or has an unknown version.",
  KRAKEN_CONTAINERD_CONFIG_PATH_UNSET:
    "containerd's config.toml sets no registry config_path, so containerd would ignore hosts.toml files.",
  KRAKEN_CONTAINERD_LEGACY_MIRRORS:
    "containerd's config.toml still has legacy registry mirrors or TLS configs, which exclude config_path.",

  // operator: the controller runtime (API client, informers, leader election)
  KRAKEN_KUBECONFIG_UNAVAILABLE:
    'No usable Kubernetes credentials: not in a pod, and no kubeconfig (the path given, KUBECONFIG or ~/.kube/config) can be read and names a cluster.',
  KRAKEN_KUBE_API_ERROR:
    'The Kubernetes API server answered with an error status; its HTTP status, reason and message are kept.',
  KRAKEN_KUBE_API_UNREACHABLE:
    'The Kubernetes API server could not be reached, or the exchange broke before an answer.',
  KRAKEN_KUBE_UNKNOWN_KIND:
    'An object of a kind the operator has no resource path for (apiVersion and kind).',
  KRAKEN_LEADERSHIP_LOST:
    'The operator could not renew its leader Lease within the renew deadline, or another holder took it; reconciling stops.',

  // operator: the API types, their CRDs and the rendering of a cluster
  KRAKEN_OPERATOR_INVALID_SPEC:
    'A KrakenCluster or ReplicationRule that fails its schema or cannot be rendered; the error names the field (`spec.origins.replicas`).',
  KRAKEN_CRD_SCHEMA_UNSUPPORTED:
    'A zod schema with a construct that has no Kubernetes structural form (a recursive type, an unsupported keyword), found while generating a CRD.',
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/** The codes in catalogue order. */
export const ERROR_CODES = Object.keys(errorCatalogue) as ErrorCode[];
