/** Errors of the build-index API: writes refused because content is missing. */
import { KrakenError } from '@kraken/foundation';

/** A manifest record whose fields contradict the request or the manifest it describes. */
export class InvalidManifestRecordError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_INVALID_MANIFEST_RECORD', message, { statusCode: 400, detail });
  }
}

/**
 * A tag PUT refused because the manifest, or content it references (recursively through
 * image indexes), is missing on the origins. `missing` lists every absent digest found.
 */
export class TagRejectedError extends KrakenError {
  readonly missing: readonly string[];

  constructor(message: string, missing: readonly string[]) {
    super('KRAKEN_TAG_REJECTED', message, { statusCode: 409, detail: { missing } });
    this.missing = missing;
  }
}

/** A manifest-record PUT refused for the same reason as TagRejectedError. */
export class ManifestRejectedError extends KrakenError {
  readonly missing: readonly string[];

  constructor(message: string, missing: readonly string[]) {
    super('KRAKEN_MANIFEST_REJECTED', message, { statusCode: 409, detail: { missing } });
    this.missing = missing;
  }
}

/** A stored object that cannot be what the build-index wrote: a bug or outside tampering. */
export class CorruptIndexStateError extends KrakenError {
  constructor(key: string, reason: string) {
    super('KRAKEN_BUILD_INDEX_CORRUPT_STATE', `stored object ${key} is unreadable: ${reason}`, {
      statusCode: 500,
    });
  }
}

export class RepositoryNotFoundError extends KrakenError {
  constructor(repo: string) {
    super('KRAKEN_REPOSITORY_NOT_FOUND', `repository ${repo} not found`, {
      statusCode: 404,
      detail: { repo },
    });
  }
}

export class TagNotFoundError extends KrakenError {
  constructor(repo: string, tag: string) {
    super('KRAKEN_TAG_NOT_FOUND', `tag ${repo}:${tag} not found`, { statusCode: 404, detail: { repo, tag } });
  }
}

export class ManifestNotFoundError extends KrakenError {
  constructor(repo: string, digest: string) {
    super('KRAKEN_MANIFEST_NOT_FOUND', `manifest ${repo}@${digest} not found`, {
      statusCode: 404,
      detail: { repo, digest },
    });
  }
}

/** A replication rule that fails its schema; the message names every bad field. */
export class InvalidReplicationRuleError extends KrakenError {
  constructor(message: string, issues: readonly { path: string; message: string }[]) {
    super('KRAKEN_INVALID_REPLICATION_RULE', message, { statusCode: 400, detail: { issues } });
  }
}

export class ReplicationRuleExistsError extends KrakenError {
  constructor(name: string) {
    super('KRAKEN_REPLICATION_RULE_EXISTS', `replication rule ${name} already exists`, {
      statusCode: 409,
      detail: { name },
    });
  }
}

/** A rule from the config file: it changes with the config, not through the API. */
export class ReplicationRuleProtectedError extends KrakenError {
  constructor(name: string) {
    super(
      'KRAKEN_REPLICATION_RULE_PROTECTED',
      `replication rule ${name} comes from the config file; change it there`,
      { statusCode: 409, detail: { name, source: 'config' } },
    );
  }
}

export class ReplicationRuleNotFoundError extends KrakenError {
  constructor(name: string) {
    super('KRAKEN_REPLICATION_RULE_NOT_FOUND', `replication rule ${name} not found`, {
      statusCode: 404,
      detail: { name },
    });
  }
}

/** Content a replication task must copy is missing here: on the local origins or build-index. */
export class ReplicationSourceMissingError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_REPLICATION_SOURCE_MISSING', message, { statusCode: 500, detail });
  }
}

/** A rule whose destination turned out to be this very cluster. */
export class ReplicationDestinationIsSelfError extends KrakenError {
  constructor(rule: string, clusterId: string) {
    super(
      'KRAKEN_REPLICATION_DESTINATION_IS_SELF',
      `replication rule ${rule} points at this cluster (${clusterId})`,
      { statusCode: 409, detail: { rule, clusterId } },
    );
  }
}
