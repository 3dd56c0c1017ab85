// rollout.js — staged rollout: an installation's stable place in a channel, and whether a release reaches it.
//
// Each installation has a random id. Its bucket in a channel is a number u in [0, 1) from SHA-256 of the
// channel and the id (models/RELEASE.md, "Rollout buckets"), and it takes a release rolled out to p % when
// 100·u < p. So a release's audience only grows as p grows, stays the same installations from one release to
// the next, and two channels' buckets are independent.

/** A new random installation id: 128 bits as 32 hex digits. */
export function newInstallationId() {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The installation's bucket in `channel`: u in [0, 1). */
export async function rolloutBucket(installationId, channel) {
  const text = new TextEncoder().encode(`edgetag-rollout\n${channel}\n${installationId}`);
  const digest = new DataView(await globalThis.crypto.subtle.digest("SHA-256", text));
  return digest.getUint32(0, false) / 2 ** 32;
}

/** Whether an installation in bucket `u` takes a release rolled out to `percent` %. */
export function inRollout(u, percent) {
  return 100 * u < percent;
}
