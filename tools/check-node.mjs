// Fails early with a clear message when scripts run outside the repo-provided Node.js 24.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(
    `This repository needs Node.js 24 (found ${process.version}). Run it through npm scripts after 'npm install', which provides Node.js 24 from devDependencies.`,
  );
  process.exit(1);
}
