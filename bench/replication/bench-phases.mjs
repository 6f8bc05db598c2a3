// The three timed phases of the replication benchmark:
// - stream: images pushed to a one after another, each watched for on b (lag per image);
// - baseline: `skopeo copy` of every image from a's proxy to a fresh cluster's proxy, one after
//   another, as a user would script it today;
// - catch-up: a rule created on a towards another fresh cluster once every image is on a, timed
//   until that cluster's agent serves the last tag: replication alone, not paced by the pushes,
//   over the same bytes as the baseline.
import { hostOf, skopeoCopy } from './skopeo-copy.mjs';

const log = (msg) => console.error(`[bench:replication] ${msg}`);

/** Pushes every image to a, one after another, each watched for on b; returns per-image timings. */
export async function pushStream({ images, aProxy, watch, now }) {
  const perImage = [];
  const served = [];
  let seen = 0;
  for (const [n, image] of images.entries()) {
    const pushStartedMs = now();
    await skopeoCopy(
      `oci:${image.layout}:${image.tag}`,
      `docker://${hostOf(aProxy)}/${image.repo}:${image.tag}`,
    );
    const pushedMs = now();
    const entry = { repo: image.repo, tag: image.tag, digest: image.manifest, pushStartedMs, pushedMs };
    perImage.push(entry);
    served.push(
      watch(image.repo, image.tag, image.manifest).then((servedMs) => {
        entry.servedMs = servedMs;
        seen++;
      }),
    );
    log(
      `pushed ${n + 1}/${images.length} ${image.repo}:${image.tag} in ${((pushedMs - pushStartedMs) / 1000).toFixed(2)} s; served on b so far: ${seen}`,
    );
  }
  await Promise.all(served);
  return perImage;
}

/** `skopeo copy` of every image from a's proxy to `targetProxy`, one after another; returns ms. */
export async function skopeoBaseline({ images, aProxy, targetProxy }) {
  let total = 0;
  for (const [n, image] of images.entries()) {
    const ref = `${image.repo}:${image.tag}`;
    total += await skopeoCopy(`docker://${hostOf(aProxy)}/${ref}`, `docker://${hostOf(targetProxy)}/${ref}`);
    if ((n + 1) % 10 === 0 || n + 1 === images.length) log(`baseline: copied ${n + 1}/${images.length}`);
  }
  return total;
}

/**
 * Creates `rule` on a's build-index and waits until `watch` sees every image served; returns
 * the ms from just before the POST to the last tag served. Images are awaited in order, one
 * poller at a time: an image served earlier answers at once, so the end is the last one's.
 */
export async function catchUp({ images, aBuildIndex, rule, watch, now }) {
  const startedMs = now();
  const res = await fetch(`${aBuildIndex}/v1/replication/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rule),
  });
  if (res.status !== 201) throw new Error(`POST /v1/replication/rules: ${res.status} ${await res.text()}`);
  let lastMs = startedMs;
  for (const [n, image] of images.entries()) {
    lastMs = Math.max(lastMs, await watch(image.repo, image.tag, image.manifest));
    if ((n + 1) % 10 === 0 || n + 1 === images.length) log(`catch-up: ${n + 1}/${images.length} served`);
  }
  return lastMs - startedMs;
}
