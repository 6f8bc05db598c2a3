// The image's software bill of materials, SPDX 2.3 JSON: the kraken apps, Node.js, every
// Debian package and every npm package inside, each with its version, a package URL
// (what scanners match advisories on) and, where known, its licence and checksum. It is
// made of the build's inputs only, so it is as reproducible as the image that carries it.
import { createHash } from 'node:crypto';

export function spdxDocument({ meta, node, debs, npmPackages, distro }) {
  const kraken = {
    SPDXID: 'SPDXRef-kraken',
    name: 'kraken',
    versionInfo: meta.version,
    primaryPackagePurpose: 'CONTAINER',
    downloadLocation: meta.source ?? 'NOASSERTION',
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: meta.license,
    copyrightText: 'NOASSERTION',
    filesAnalyzed: false,
    comment: `Built from commit ${meta.commit}.`,
  };
  const nodejs = {
    ...common('SPDXRef-nodejs', 'node', node.version, 'MIT'),
    downloadLocation: `https://nodejs.org/dist/v${node.version}/`,
    supplier: 'Organization: OpenJS Foundation',
    primaryPackagePurpose: 'APPLICATION',
    checksums: [{ algorithm: 'SHA256', checksumValue: node.sha256 }],
    externalRefs: [
      purl(`pkg:generic/node@${node.version}`),
      {
        referenceCategory: 'SECURITY',
        referenceType: 'cpe23Type',
        referenceLocator: `cpe:2.3:a:nodejs:node.js:${node.version}:*:*:*:*:*:*:*`,
      },
    ],
  };
  const debian = debs.map((deb) => ({
    ...common(`SPDXRef-deb-${spdxId(deb.name)}`, deb.name, deb.version, 'NOASSERTION'),
    supplier: 'Organization: Debian',
    primaryPackagePurpose: 'LIBRARY',
    checksums: [{ algorithm: 'SHA256', checksumValue: deb.sha256 }],
    externalRefs: [
      purl(
        `pkg:deb/${distro.id}/${deb.name}@${encodeURIComponent(deb.version)}` +
          `?arch=${deb.architecture}&distro=${distro.id}-${distro.versionId}`,
      ),
    ],
  }));
  const npm = Object.entries(npmPackages)
    .filter(([path]) => path !== '')
    .map(([path, entry], i) => {
      const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      return {
        ...common(`SPDXRef-npm-${i + 1}-${spdxId(name)}`, name, entry.version, entry.license),
        downloadLocation: entry.resolved ?? 'NOASSERTION',
        primaryPackagePurpose: 'LIBRARY',
        checksums: integrityChecksums(entry.integrity),
        externalRefs: [purl(`pkg:npm/${encodeURIComponent(name).replace('%2F', '/')}@${entry.version}`)],
      };
    });
  const packages = [kraken, nodejs, ...debian, ...npm];
  const body = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `kraken-${meta.version}`,
    creationInfo: { created: meta.created, creators: [`Tool: kraken-image-${meta.version}`] },
    packages,
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: kraken.SPDXID },
      ...packages.slice(1).map((pkg) => ({
        spdxElementId: kraken.SPDXID,
        relationshipType: 'CONTAINS',
        relatedSpdxElement: pkg.SPDXID,
      })),
    ],
  };
  // A namespace unique to this content, yet the same for the same build.
  const digest = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
  const namespace = `https://spdx.org/spdxdocs/kraken-${meta.version}-${meta.commit}-${digest}`;
  const { spdxVersion, dataLicense, SPDXID, name, ...rest } = body;
  return { spdxVersion, dataLicense, SPDXID, name, documentNamespace: namespace, ...rest };
}

function common(SPDXID, name, version, license) {
  return {
    SPDXID,
    name,
    versionInfo: version,
    downloadLocation: 'NOASSERTION',
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: license ?? 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    filesAnalyzed: false,
  };
}

function purl(locator) {
  return { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: locator };
}

/** SPDX identifiers allow letters, digits, '.' and '-' (the caller's index keeps them unique). */
function spdxId(text) {
  return text.replace(/[^A-Za-z0-9.-]+/g, '-');
}

/** package-lock's Subresource Integrity strings (sha512-<base64>) as SPDX hex checksums. */
function integrityChecksums(integrity) {
  if (integrity === undefined) return undefined;
  return integrity.split(/\s+/).map((sri) => {
    const [algorithm, base64] = sri.split('-', 2);
    return {
      algorithm: algorithm.toUpperCase(),
      checksumValue: Buffer.from(base64, 'base64').toString('hex'),
    };
  });
}
