// release.mjs — run by tests/deno.test.mjs under Deno: a signed release channel over HTTP (WebCrypto's Ed25519 in
// Deno), a check answered 304, an update, and a tampered manifest refused; one JSON line for the Node side.
import { load, verifyManifest } from "../../../web/edgetag.js";

const [manifestUrl, publicKey, tampered] = Deno.args;
const channel = await load({ manifest: manifestUrl, publicKey }, { checkIntervalMs: 0 });
const out = { version: channel.version, phase: channel.state.phase, label: channel.classify("book a table").label };
out.recheck = (await channel.checkNow()).outcome;
out.refused = await verifyManifest(tampered, { publicKey }).then(() => "accepted", (e) => e.code);
await channel.dispose();
console.log(JSON.stringify(out));
