// webkit.test.mjs — the field-notes demo's core flow in Safari's engine family: WebKitGTK's MiniBrowser driven
// over WebDriver under a virtual X display (tests/js/browser/webdriver.mjs). JavaScriptCore has no relaxed
// SIMD, so the app runs the baseline SIMD128 build. First visit (download, tag, classify), then a reload with
// the server stopped (the service worker serves the app, IndexedDB the models). A browser restart cannot be
// shown here, and the last test says why and checks that the reason holds.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startWebKit, webkitMissing } from "../browser/webdriver.mjs";
import { READ_RESULTS, SHOTS, SURE, startDemo, startOutsideRecorder } from "./harness.mjs";

const missing = webkitMissing();

describe("the field-notes demo in WebKitGTK (Safari's engine family)", { skip: missing ?? false }, () => {
  let servers, outside, wk, port;
  const s = () => wk.session;
  const results = () => s().execute(`return ${READ_RESULTS}`);
  const ready = () => s().until(`return document.body.dataset.models === "ready" ? true :
    (document.getElementById("loading-error").hidden ? null : document.getElementById("loading-error-text").textContent)`,
  Boolean, { timeoutMs: 90_000 }).then((v) => assert.equal(v, true, `the models did not load: ${v}`));
  /** A screenshot once the page has painted (WebKitGTK's snapshot can lag a frame behind the DOM). */
  const shot = async (name, rect = { width: 1280, height: 900 }) => {
    await s().setWindowRect(rect).catch(() => {});
    await s().executeAsync("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 400)));");
    writeFileSync(join(SHOTS, `${name}.png`), await s().screenshot());
  };

  /** Types a note through the page (WebDriver's element commands would do the same, slower) and waits for it. */
  const tag = async ({ note, request }) => {
    const n = await s().execute("return document.querySelectorAll('#history-list li').length");
    await s().execute(`document.getElementById("note").value = arguments[0]; document.getElementById("request").value = arguments[1];
      document.getElementById("analyse").click();`, note, request);
    await s().until(`return document.querySelectorAll('#history-list li').length === ${n + 1} &&
      !document.getElementById('results').hasAttribute('aria-busy')`, Boolean, { timeoutMs: 30_000 });
    return results();
  };

  before(async () => {
    outside = await startOutsideRecorder();
    servers = await startDemo();
    port = Number(new URL(servers.demo.base).port);
    // MiniBrowser sends everything but the loopback through the recording proxy.
    wk = await startWebKit({ args: ["--automation", `--proxy=${outside.url}`, "--ignore-host=127.0.0.1"] });
    await s().setWindowRect({ width: 1280, height: 900 }).catch(() => {});
  });
  after(async () => {
    await wk?.stop();
    await servers?.close();
    await outside?.close();
  });

  test("first visit: the SIMD128 build (no relaxed SIMD in JavaScriptCore), the models download and are stored, a note is tagged", async () => {
    await s().navigate(`${servers.demo.base}/`);
    await ready();
    const engine = await s().execute(`return { relaxed: WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123,
      3, 2, 1, 0, 10, 61, 1, 59, 0, ...[0, 1, 2].flatMap(() => [253, 12, ...new Array(16).fill(0)]), 253, 133, 2, 11])),
      line: document.getElementById("engine-line").textContent, agent: navigator.userAgent }`);
    assert.equal(engine.relaxed, false, "JavaScriptCore has no relaxed SIMD");
    assert.match(engine.line, /SIMD128 build · models downloaded/);
    assert.match(engine.agent, /AppleWebKit\/605/);
    // The download card was shown and filled.
    const card = await s().execute(`return [...document.querySelectorAll("#loading-models li")].map((li) => li.textContent)`);
    assert.deepEqual(card, ["Equipment, activities & faultsready", "Personal dataready", "Request intentsready"]);

    const r = await tag(SURE);
    assert.equal(r.entitiesText, SURE.note);
    const byText = Object.fromEntries(r.entities.map((e) => [e.text, e.label]));
    assert.equal(byText["hydraulic pump"], "PhysicalObject");
    assert.equal(byText.leaking, "Process");
    assert.equal(r.entitiesBadge.source, "local");
    assert.equal(r.intent.label, "order");
    assert.equal(r.history, 1);

    // The service worker takes the page, and the three models are on the device.
    const offline = await s().until(`return document.body.dataset.offlineReady === "true" &&
      [navigator.serviceWorker.controller.scriptURL, document.getElementById("ready-text").textContent]`, Boolean, { timeoutMs: 30_000 });
    assert.deepEqual(offline, [`${servers.demo.base}/sw.js`, "Works offline"]);
    await s().until("return document.getElementById('loading').hidden", Boolean);
    await shot("webkit-1-tagged");
  });

  test("offline: with the server stopped, a reload opens the app from the service worker and tags and classifies from IndexedDB", async () => {
    await servers.close();
    await s().refresh();
    await ready();
    const before = await results();
    assert.match(before.engine, /SIMD128 build · models read from this device/);
    assert.equal(before.history, 1, "the history is there");
    assert.equal(before.entitiesText, SURE.note, "the last note is shown again");
    const r = await tag({ note: "conveyor belt torn near tail pulley, replaced 2 rollers", request: "set a reminder to check the belt on friday" });
    assert.ok(r.entities.some((e) => e.text === "tail pulley" && e.label === "PhysicalObject"), JSON.stringify(r.entities));
    assert.equal(r.intent.label, "reminder_update");
    assert.equal(r.intent.badge.source, "local");
    assert.equal(r.history, 2);
    await shot("webkit-2-offline-reload");
    await shot("webkit-3-offline-reload-narrow", { width: 390, height: 844 }); // MiniBrowser's window stops at about 450 px
    const away = await s().execute("return performance.getEntriesByType('resource').map((e) => e.name).filter((u) => !u.startsWith('http://127.0.0.1:'))");
    assert.deepEqual(away, []);
    assert.deepEqual(outside.seen, [], "nothing went past the loopback");
    // The recorder would have seen one: a request to another host goes to it.
    await s().executeAsync("fetch('http://example.invalid/probe').catch(() => null).then(() => arguments[arguments.length - 1]())");
    assert.deepEqual(outside.seen, ["GET http://example.invalid/probe"]);
  });

  test("a browser restart", async (t) => {
    // Why it cannot be shown: MiniBrowser in automation mode runs on an ephemeral website data manager
    // (Tools/MiniBrowser: `(privateMode || automationMode) ? webkit_website_data_manager_new_ephemeral()`), so
    // a new WebDriver session starts with no service worker, no cache and no IndexedDB. In such a session
    // WebKit also refuses Blob values in IndexedDB, which is why the library stored the models as ArrayBuffers.
    const refused = await s().executeAsync(`const done = arguments[arguments.length - 1];
      const q = indexedDB.open("blob-probe"); q.onupgradeneeded = () => q.result.createObjectStore("s");
      q.onsuccess = () => { const r = q.result.transaction("s", "readwrite").objectStore("s").put(new Blob(["x"]), "k");
        r.onsuccess = () => done("stored"); r.onerror = () => done(r.error.name + ": " + r.error.message); };`);
    assert.equal(refused, "UnknownError: Error preparing Blob/File data to be stored in object store");
    // A new session on the same origin (the server back on its port) finds none of what the first one stored.
    await wk.stop();
    servers = await startDemo({ demoPort: port });
    wk = await startWebKit({ args: ["--automation", `--proxy=${outside.url}`, "--ignore-host=127.0.0.1"] });
    await s().navigate(`${servers.demo.base}/`);
    await ready();
    const fresh = await s().executeAsync(`const done = arguments[arguments.length - 1];
      done({ history: document.querySelectorAll("#history-list li").length, engine: document.getElementById("engine-line").textContent });`);
    assert.equal(fresh.history, 0, "the notes of the first session are gone");
    assert.match(fresh.engine, /models downloaded/, "the models were downloaded again");
    t.skip("WebKitGTK's WebDriver sessions are ephemeral (MiniBrowser --automation): a restarted browser keeps nothing, " +
      "so the app cannot open offline after a restart there; Chromium's test shows the restart");
  });
});
