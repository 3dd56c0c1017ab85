// release-worker.js — tests/js/release-browser.test.mjs runs this as a dedicated Web Worker and as a Service
// Worker (both module workers): asked over a MessagePort, it opens a signed release channel with the library as
// such a worker imports it (WebCrypto's Ed25519 in that context) and answers what serves, or the error's code.
import { load, verifyManifest } from "/web/edgetag.js";

async function answer({ manifest, publicKey, tampered }) {
  const where = typeof WorkerGlobalScope !== "undefined" && globalThis.registration ? "service worker" : "worker";
  try {
    const refused = await verifyManifest(tampered, { publicKey }).then(() => "accepted", (e) => e.code);
    const channel = await load({ manifest, publicKey }, { checkIntervalMs: 0, cache: "none", store: "memory" });
    const label = channel.classify("book a table for two").label;
    const out = { where, version: channel.version, label, refused, flavour: channel.flavour };
    await channel.dispose();
    return out;
  } catch (e) {
    return { where, error: e.code ?? e.name, message: e.message };
  }
}

self.addEventListener("message", (event) => {
  const port = event.ports[0];
  answer(event.data).then((r) => port.postMessage(r));
});
// A service worker takes over at once, so the test need not reload.
self.addEventListener("install", () => self.skipWaiting?.());
self.addEventListener("activate", (event) => event.waitUntil?.(self.clients.claim()));
