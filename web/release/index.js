// @ts-self-types="./index.d.ts"
// release/ — the release channel: signed manifests (models/RELEASE.md), staged rollout, background updates
// swapped in between calls, rollback to the last good version, and the team's telemetry.
//
//   import { load, telemetry } from "edgetag";
//   const intents = await load({ manifest: "https://models.example/intent-clinc/stable.json", publicKey: "ed25519:…" });
//   intents.addEventListener("rollback", (e) => console.warn(e.detail.version, e.detail.reason));
//   telemetry({ endpoint: "https://telemetry.example/v1/edgetag", sources: { intents } });
//
// The modules, bottom up: manifest.js (the schema, the canonical encoding that is signed, engine bounds),
// verify.js (Ed25519 by WebCrypto, channel, validity window, replays), rollout.js (installation buckets),
// store.js (the channel's memory: IndexedDB or in memory), smoke.js (the model against its manifest, the smoke
// test), download.js (the manifest with its ETag, the file's body), tagger.js (ReleaseTagger: calls to the
// version serving, swaps, events, stats), install.js (one version loaded and proven), updater.js (checks,
// choice, install, swap, rollback), channel.js (openRelease, and load() for both kinds of source),
// telemetry.js (reports of the taggers' stats()).

export { RELEASE_DEFAULTS, load, openRelease } from "./channel.js";
export { SCHEMA as RELEASE_SCHEMA, canonicalize } from "./manifest.js";
export { memoryStore, indexedDBStore } from "./store.js";
export { rolloutBucket } from "./rollout.js";
export { verifyManifest } from "./verify.js";
export { ReleaseTagger } from "./tagger.js";
export { TELEMETRY_DEFAULTS, TELEMETRY_SCHEMA, telemetry } from "./telemetry.js";
