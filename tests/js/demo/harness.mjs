// harness.mjs — what the demo's browser tests share: the demo's own servers (demo/server/), a recorder of any
// request that tries to leave 127.0.0.1, the notes they type, and where screenshots go.
import { createServer } from "node:http";
import { mkdirSync } from "node:fs";
import { startStandInCloud } from "../../../demo/server/cloud.mjs";
import { startDemoServer } from "../../../demo/server/serve.mjs";
import { path, readBuilt } from "../helpers.mjs";

/** Screenshots, as test artefacts (not committed). */
export const SHOTS = path("build/demo-screenshots");
mkdirSync(SHOTS, { recursive: true });

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 860 };

/** Sizes of the three models the app downloads, for the progress it must show. */
export const MODEL_BYTES = ["maint-ner", "pii-ner", "intent-clinc"].reduce((n, m) => n + readBuilt(`models/${m}.gguf`, "git checkout models/").length, 0);
readBuilt("build/edgetag.wasm", "make wasm");
readBuilt("build/edgetag-relaxed.wasm", "make wasm");

/** A note the models are sure of (answered on the device) and one they are not, holding personal data. */
export const SURE = { note: "replace leaking hydraulic pump seal on excavator 12", request: "order two new rollers for the tail pulley" };
export const UNSURE = {
  note: "fan belt loose on compressor 2, tightened. Anna Kowalski will check it Friday, call her on +44 7700 900123",
  request: "when was the compressor last serviced",
};
/** What must never reach the cloud from UNSURE. */
export const PERSONAL = ["Anna", "Kowalski", "+44", "7700", "900123"];

/** The stand-in cloud and the demo server on 127.0.0.1 (the demo's port fixed by `demoPort` when given). */
export async function startDemo({ demoPort = 0 } = {}) {
  const cloud = await startStandInCloud();
  const demo = await startDemoServer({ port: demoPort, cloudUrl: cloud.url });
  return { cloud, demo, close: () => Promise.all([demo.close(), cloud.close()]) };
}

/**
 * An HTTP proxy on 127.0.0.1 that forwards nothing: the browser is told to send anything that is not on the
 * loopback through it, so every request that would have left the machine is recorded here (plain requests
 * and HTTPS CONNECTs) and refused.
 */
export async function startOutsideRecorder() {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(502, { "content-type": "text/plain" }).end("no network in the demo's tests\n");
  });
  server.on("connect", (req, socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/** A page function (as source) that reads what the results column shows. */
export const READ_RESULTS = `(() => {
  const q = (s) => document.querySelector(s);
  const marks = (sel) => [...document.querySelectorAll(sel + " mark.ent")].map((m) => {
    const c = m.cloneNode(true);
    c.querySelector(".ent-tag")?.remove();
    return { text: c.textContent, label: m.dataset.label, chip: m.querySelector(".ent-tag")?.textContent };
  });
  const plain = (sel) => [...q(sel).childNodes].map((n) => {
    if (n.nodeType === 3) return n.textContent;
    const c = n.cloneNode(true);
    c.querySelector(".ent-tag")?.remove();
    return c.textContent;
  }).join("");
  const badge = (sel) => ({ source: q(sel).dataset.source, text: q(sel).textContent.trim() });
  return {
    entities: marks("#entities-text"), entitiesText: plain("#entities-text"), entitiesBadge: badge("#entities-badge"),
    entitiesWhy: q("#entities-why").textContent,
    pii: marks("#pii-text"), piiText: plain("#pii-text"), piiSummary: q("#pii-summary").textContent,
    sent: [...document.querySelectorAll("#sent-preview .sent-line")].map((l) => ({
      label: l.querySelector(".sent-label").firstChild.textContent, text: l.querySelector(".sent-text").textContent,
      sent: Boolean(l.querySelector(".sent-flag")) })),
    sentState: q("#sent-state").textContent,
    intent: q("#intent-card").hidden ? null : {
      label: q("#intent-label code").textContent, name: q("#intent-label").firstChild.textContent,
      score: q("#intent-score").textContent, badge: badge("#intent-badge"), why: q("#intent-why").textContent },
    history: document.querySelectorAll("#history-list li").length,
    online: q("#net-text").textContent, banner: !q("#offline-banner").hidden, ready: q("#ready-text").textContent,
    engine: q("#engine-line").textContent,
  };
})()`;
