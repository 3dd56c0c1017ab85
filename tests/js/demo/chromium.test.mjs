// chromium.test.mjs — the field-notes demo (demo/) end to end in headless Chromium, as a customer meets it:
// the first visit online (download progress, a note tagged with the keyboard), the service worker and the
// manifest, a note the models are unsure of escalated to the stand-in cloud with its personal data replaced,
// a reload offline, a browser restart with both servers stopped, the JSON export, accessibility (axe-core)
// at phone and desktop sizes in both colour schemes, and that no request leaves 127.0.0.1. Screenshots go to
// build/demo-screenshots/.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium } from "../browser/chromium.mjs";
import { path } from "../helpers.mjs";
import { DESKTOP, MODEL_BYTES, PERSONAL, PHONE, READ_RESULTS, SHOTS, SURE, UNSURE, startDemo, startOutsideRecorder } from "./harness.mjs";

const AXE = readFileSync(path("node_modules/axe-core/axe.min.js"), "utf8");
// maint-ner's calibrated threshold as the app prints it (two decimals), from the shipped models' manifest.
const NOTES_THRESHOLD = JSON.parse(readFileSync(path("models/manifest.json"), "utf8")).models
  .find((m) => m.name === "maint-ner").threshold.toFixed(2).replace(".", "\\.");
// Chromium's own services, which it calls whatever the page shows: the component and extension updater and
// its download redirector, the account check of Debian's build (it ships Google API keys), network time, the
// optimization guide. Autofill's server (asked about any form) and the optimization hints are switched off.
const CHROMIUM_SERVICES =
  /^(CONNECT |[A-Z]+ http:\/\/)((update|optimizationguide-pa|content-autofill)\.googleapis\.com|(accounts|clients\d?)\.google\.com|[a-z0-9-]+\.gvt1\.com)[:/]/;
const KEY = "sk-field-notes-test-key";

/** The width and height of a PNG file, from its IHDR chunk. */
function pngSize(bytes) {
  assert.equal(bytes.subarray(1, 4).toString("latin1"), "PNG", "a PNG file");
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

describe("the field-notes demo in Chromium", () => {
  let servers, outside, profile, context, page;
  const urls = [];       // every request the browser reported, pages and workers
  const pageErrors = [];

  const launch = async () => {
    context = await launchChromium(profile, { viewport: DESKTOP,
      args: [`--proxy-server=${outside.url}`, "--disable-features=AutofillServerCommunication,OptimizationHints,OptimizationHintsFetching"] });
    context.on("request", (r) => urls.push(r.url()));
    page = context.pages()[0] ?? await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  };
  const results = () => page.evaluate(READ_RESULTS);
  const ready = () => page.waitForFunction(() => document.body.dataset.models === "ready", null, { timeout: 60_000 });
  const saved = () => page.evaluate(() => document.querySelectorAll("#history-list li").length);
  /** The settings as kept on the device, once settings[key] is `value` (the dialog saves them on its close event). */
  const stored = async (key, value) => {
    const handle = await page.waitForFunction(([k, v]) => {
      const s = JSON.parse(localStorage.getItem("edgetag-field-notes:settings") ?? "{}");
      return s[k] === v ? s : null;
    }, [key, value], { timeout: 5000 });
    return handle.jsonValue();
  };

  /** Types a note (and a request) and submits it; resolves when it is saved and shown. */
  const tag = async ({ note, request }) => {
    const n = await saved();
    await page.fill("#note", note);
    await page.fill("#request", request);
    await page.click("#analyse");
    await page.waitForFunction((k) => document.querySelectorAll("#history-list li").length === k &&
      !document.getElementById("results").hasAttribute("aria-busy"), n + 1, { timeout: 30_000 });
    return results();
  };

  const shot = async (name, { size = DESKTOP, fullPage = size === DESKTOP, dark = false, top = true } = {}) => {
    await page.setViewportSize(size);
    await page.emulateMedia({ colorScheme: dark ? "dark" : "light" });
    if (top) await page.evaluate(() => window.scrollTo(0, 0));
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage, animations: "disabled" });
  };

  /** axe-core on the page as it is: no serious or critical violations. */
  const axe = async (label) => {
    if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
    const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 4).join(", ")}`));
    assert.deepEqual(violations, [], `axe-core, ${label}`);
  };

  before(async () => {
    outside = await startOutsideRecorder();
    servers = await startDemo();
    profile = mkdtempSync(join(tmpdir(), "edgetag-demo-chromium-"));
    await launch();
  });
  after(async () => {
    await context?.close();
    await servers?.close();
    await outside?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  test("first visit, online: the models download with progress, then a note typed with the keyboard is tagged", async () => {
    // Every change of the progress bar, recorded from the first script on; the second model is held back
    // a moment so the screenshot shows a download under way.
    await page.addInitScript(() => {
      window.__progress = [];
      new MutationObserver(() => {
        const bar = document.getElementById("loading-bar");
        if (bar) window.__progress.push({ value: bar.value, max: bar.max, shown: !document.getElementById("loading").hidden });
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ["value"] });
    });
    let release;
    const held = new Promise((r) => { release = r; });
    await context.route("**/models/pii-ner.gguf", async (route) => { await held; await route.continue(); });
    await page.setViewportSize(PHONE);
    await page.goto(`${servers.demo.base}/`);
    await page.waitForFunction(() => document.querySelector('#loading-models li[data-done="true"]'), null, { timeout: 30_000 });
    await shot("phone-1-first-visit-downloading", { size: PHONE });
    release();
    await ready();
    await context.unroute("**/models/pii-ner.gguf");

    const progress = await page.evaluate(() => window.__progress);
    assert.ok(progress.every((p) => p.shown), "the download card is shown while the models download");
    assert.ok(progress.some((p) => p.value > 0.05 && p.value < 0.95), `progress in between: ${JSON.stringify(progress.slice(0, 5))}…`);
    assert.equal(progress.at(-1).value, 1);
    const card = await page.evaluate(() => ({
      amount: document.getElementById("loading-amount").textContent,
      models: [...document.querySelectorAll("#loading-models li")].map((li) => li.textContent),
    }));
    const mb = (MODEL_BYTES / 1e6).toFixed(1);
    assert.equal(card.amount, `${mb} MB of ${mb} MB`);
    assert.deepEqual(card.models, ["Equipment, activities & faultsready", "Personal dataready", "Request intentsready"]);

    // The keyboard: the skip link first, to the note, then the request, Ctrl+Enter to tag.
    await page.setViewportSize(DESKTOP);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.className), "skip-link");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement.id), "note");
    await page.keyboard.type(SURE.note);
    await page.keyboard.press("Tab");
    await page.keyboard.type(SURE.request);
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction(() => document.querySelectorAll("#history-list li").length === 1 &&
      !document.getElementById("results").hasAttribute("aria-busy"), null, { timeout: 30_000 });

    const r = await results();
    assert.equal(r.entitiesText, SURE.note, "the highlighted note reads exactly as typed");
    const byText = Object.fromEntries(r.entities.map((e) => [e.text, e.label]));
    assert.equal(byText["hydraulic pump"], "PhysicalObject");
    assert.equal(byText.leaking, "Process");
    assert.equal(byText.replace, "Activity");
    assert.match(r.entities[0].chip, /^Activity 0\.\d\d$/, "each entity shows its label and score");
    assert.equal(r.entitiesBadge.source, "local");
    assert.match(r.entitiesBadge.text, /^Local · [\d.]+ ms$/);
    assert.match(r.entitiesWhy, /Confident .*nothing sent/);
    assert.deepEqual(r.pii, []);
    assert.match(r.sentState, /nothing left the device/);
    assert.equal(r.intent.label, "order");
    assert.equal(r.intent.badge.source, "local");
    assert.match(r.engine, /relaxed-SIMD build · models downloaded/);
    assert.equal(r.history, 1);
    await shot("desktop-1-tagged-on-device");
  });

  test("the service worker controls the page, precaches the shell and both engine builds; the manifest is installable", async () => {
    await page.waitForFunction(() => document.body.dataset.offlineReady === "true", null, { timeout: 30_000 });
    const sw = await page.evaluate(async () => {
      const cached = async (u) => Boolean(await caches.match(u, { ignoreSearch: true }));
      return {
        script: navigator.serviceWorker.controller?.scriptURL,
        caches: await caches.keys(),
        files: Object.fromEntries(await Promise.all(["index.html", "app.js", "app.css", "web/edgetag.js", "web/worker-main.js",
          "build/edgetag.wasm", "build/edgetag-relaxed.wasm", "icons/icon-192.png"].map(async (f) => [f, await cached(new URL(f, location.href).href)]))),
        models: await cached(new URL("models/maint-ner.gguf", location.href).href),
        ready: document.getElementById("ready-text").textContent,
      };
    });
    assert.equal(sw.script, `${servers.demo.base}/sw.js`);
    assert.ok(sw.caches.some((c) => c.startsWith("field-notes-precache")), sw.caches.join(", "));
    assert.ok(Object.values(sw.files).every(Boolean), JSON.stringify(sw.files));
    assert.equal(sw.models, false, "models are the library's to keep (IndexedDB), not the service worker's");
    assert.equal(sw.ready, "Works offline");

    const manifest = await page.evaluate(async () => {
      const href = document.querySelector('link[rel="manifest"]').href;
      const res = await fetch(href);
      return { type: res.headers.get("content-type"), text: await res.text(), href };
    });
    assert.equal(manifest.type, "application/manifest+json");
    const m = JSON.parse(manifest.text);
    assert.ok(m.name && m.short_name && m.start_url && m.id, "name, short_name, start_url, id");
    assert.ok(["standalone", "fullscreen", "minimal-ui"].includes(m.display), m.display);
    for (const size of [192, 512]) {
      const icon = m.icons.find((i) => i.sizes === `${size}x${size}` && i.type === "image/png" && (i.purpose ?? "any").includes("any"));
      assert.ok(icon, `a ${size}×${size} PNG icon`);
      assert.deepEqual(pngSize(readFileSync(path(`demo/${icon.src}`))), [size, size]);
    }
    // Chromium's own verdict: the manifest parses, and nothing stands in the way of installing the app.
    const cdp = await context.newCDPSession(page);
    const parsed = await cdp.send("Page.getAppManifest");
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.url, manifest.href);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    assert.deepEqual(installabilityErrors, []);
    await cdp.detach();
  });

  test("an unsure note goes to the stand-in cloud when online, its personal data replaced; the key goes only there", async () => {
    // The key, set in the settings dialog: kept in this browser, sent only to the endpoint.
    await page.click("#open-settings");
    await page.fill("#api-key", KEY);
    await shot("phone-4-settings", { size: PHONE });
    await axe("settings dialog, phone");
    await page.click("#settings-save");
    await stored("apiKey", KEY);

    await page.setViewportSize(DESKTOP);
    await page.getByRole("button", { name: "Loose fan belt" }).click();
    assert.equal(await page.inputValue("#note"), UNSURE.note);
    const r = await tag(UNSURE);
    assert.equal(r.entitiesText, UNSURE.note);
    assert.equal(r.entitiesBadge.source, "cloud");
    assert.match(r.entitiesBadge.text, /^Cloud · [\d.]+ ms$/);
    assert.match(r.entitiesWhy, new RegExp(`Unsure \\(lowest score 0\\.\\d\\d is below ${NOTES_THRESHOLD}\\), so the cloud was asked .* Answered by stand-in rules: dictionary terms`));
    assert.ok(r.entities.some((e) => e.text === "compressor" && e.label === "PhysicalObject"));
    assert.deepEqual(r.pii.map((e) => [e.text, e.label]), [["Anna Kowalski", "PERSON"], ["+44 7700 900123", "PHONE_NUMBER"]]);
    assert.equal(r.intent.label, "last_maintenance");
    assert.equal(r.intent.badge.source, "cloud");
    assert.match(r.intent.why, /stand-in rules: rule: .* → last_maintenance/);

    // What the stand-in received: the two questions, each with the key, and no personal data anywhere.
    const posts = servers.cloud.received.filter((x) => x.method === "POST");
    assert.equal(posts.length, 2);
    const everything = servers.cloud.everything();
    for (const s of PERSONAL) assert.ok(!everything.includes(s), `${s} reached the cloud`);
    for (const p of posts) assert.ok(p.rawHeaders.includes(`Bearer ${KEY}`), "the key goes to the endpoint");
    const users = posts.map((p) => JSON.parse(p.body).messages.at(-1).content);
    assert.deepEqual(users, [
      "fan belt loose on compressor 2, tightened. [PERSON_1] will check it Friday, call her on [PHONE_NUMBER_1]", UNSURE.request]);
    assert.deepEqual(r.sent.map((s) => [s.label, s.text, s.sent]), [["Note", users[0], true], ["Request", users[1], true]],
      "the preview is exactly what was sent");

    await shot("desktop-2-cloud-answer");
    await shot("desktop-3-cloud-answer-dark", { dark: true });
    await axe("results, desktop, dark");
    await shot("phone-2-cloud-answer", { size: PHONE, fullPage: true });
    await axe("results, phone, light");
    await page.evaluate(() => document.getElementById("pii-card").scrollIntoView());
    await shot("phone-3-personal-data", { size: PHONE, top: false });
    await page.setViewportSize(DESKTOP);
  });

  test("the history exports as a JSON file holding the notes", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
    assert.match(download.suggestedFilename(), /^field-notes-\d{4}-\d\d-\d\d\.json$/);
    const doc = JSON.parse(readFileSync(await download.path(), "utf8"));
    assert.equal(doc.app, "edgetag field notes");
    assert.equal(doc.count, 2);
    assert.deepEqual(doc.notes.map((n) => n.note), [UNSURE.note, SURE.note], "newest first");
    assert.equal(doc.notes[0].entities.source, "cloud");
    assert.equal(doc.notes[0].intent.label, "last_maintenance");
    assert.ok(!JSON.stringify(doc).includes(KEY), "the key is not in the export");
  });

  test("settings: a threshold of 0 keeps an unsure note on the device; with redaction off the preview warns and shows the text as written", async () => {
    const asked = servers.cloud.received.length;
    // By keyboard: the calibrated choice off (Space), the slider to its minimum (Home), redaction off, Save.
    await page.click("#open-settings");
    await page.focus("#threshold-auto");
    await page.keyboard.press("Space");
    await page.focus("#threshold");
    await page.keyboard.press("Home");
    assert.equal(await page.textContent("#threshold-out"), "0.00");
    await page.focus("#redact");
    await page.keyboard.press("Space");
    assert.ok(await page.isVisible("#redact-warning"), "turning redaction off warns at once");
    await page.focus("#settings-save");
    await page.keyboard.press("Enter");
    await stored("redact", false);

    const r = await tag(UNSURE);
    assert.equal(r.entitiesBadge.source, "local");
    assert.match(r.entitiesWhy, /^Confident \(lowest score 0\.\d\d ≥ 0\.00\)/);
    assert.equal(r.intent.badge.source, "local");
    assert.equal(servers.cloud.received.length, asked, "nothing was asked");
    assert.equal(r.sent[0].text, UNSURE.note, "without redaction the note would go as written");
    assert.ok(await page.isVisible("#sent-preview .warning"), "and the preview says so");

    await page.click("#open-settings");
    await page.check("#threshold-auto");
    await page.check("#redact");
    await page.click("#settings-save");
    const s = await stored("redact", true);
    assert.deepEqual([s.threshold, s.redact, s.apiKey], [null, true, KEY]);
  });

  test("offline: a reload opens the app from the service worker, tags and classifies on the device, and says why nothing was sent", async () => {
    const served = servers.demo.requests.length, asked = servers.cloud.received.length;
    await context.setOffline(true);
    await page.reload();
    await ready();
    const before = await results();
    assert.equal(before.history, 3, "the history survived the reload");
    assert.equal(before.online, "Offline");
    assert.ok(before.banner, "the offline banner is shown");
    assert.match(before.engine, /models read from this device/);

    const r = await tag(UNSURE);
    assert.equal(r.entitiesBadge.source, "local");
    assert.match(r.entitiesWhy, new RegExp(`^Offline: lowest score 0\\.\\d\\d is below ${NOTES_THRESHOLD}, but nothing is sent without a connection`));
    assert.equal(r.intent.badge.source, "local");
    assert.match(r.intent.why, /^Offline: /);
    assert.equal(r.history, 4);
    // Only the browser's own check for a new service worker (sw.js and the scripts it imports) reaches the
    // server: DevTools' offline emulation covers pages and workers, not that check, which a phone with no
    // signal simply fails. The page, the library, the engine and the models came from the device.
    const reached = servers.demo.requests.slice(served).map((x) => x.path);
    assert.deepEqual(reached.filter((p) => !/^\/(sw\.js|precache-manifest\.js|vendor\/workbox\/workbox-[a-z]+(\.prod)?\.js)$/.test(p)), []);
    assert.equal(servers.cloud.received.length, asked, "nothing reached the cloud");
    await shot("phone-5-offline", { size: PHONE });
    await page.evaluate(() => document.getElementById("entities-card").scrollIntoView());
    await shot("phone-6-offline-answer", { size: PHONE, top: false });
    await shot("desktop-4-offline");
    await axe("offline, desktop");
    await context.setOffline(false);
  });

  test("a browser restart with both servers stopped: the app still loads, tags, classifies and shows its history", async () => {
    await context.close();
    await servers.close();
    await launch();
    await page.goto(`${servers.demo.base}/`);
    await ready();
    assert.equal(await saved(), 4);
    const shown = await results();
    assert.equal(shown.entitiesText, UNSURE.note, "the latest note is shown again");

    const sure = await tag(SURE);
    assert.equal(sure.entitiesBadge.source, "local");
    assert.equal(sure.intent.label, "order");
    // Online as far as the browser knows, but the cloud is gone: the local answer, and why.
    const unsure = await tag(UNSURE);
    assert.equal(unsure.entitiesBadge.source, "local");
    assert.match(unsure.entitiesWhy, /but the cloud could not be reached\. Kept the on-device answer\./);
    assert.match(unsure.sentState, /the cloud could not be reached, nothing arrived/);
    assert.ok(unsure.sent.every((x) => !x.sent), "nothing is marked as sent");
    assert.equal(unsure.history, 6);
    await shot("desktop-5-after-restart-servers-stopped");
  });

  test("no request left 127.0.0.1, and no script failed", async () => {
    assert.ok(urls.length > 30, `${urls.length} requests seen`);
    const away = urls.filter((u) => !u.startsWith("http://127.0.0.1:") && !u.startsWith("blob:") && !u.startsWith("data:"));
    assert.deepEqual(away, []);
    // Everything off the loopback went to the recording proxy: only Chromium's own services are there.
    const seen = outside.seen.length;
    assert.deepEqual(outside.seen.filter((x) => !CHROMIUM_SERVICES.test(x)), []);
    // The recorder would have seen the app: a request to another host goes to it.
    await page.evaluate(() => fetch("http://example.invalid/probe").catch(() => null));
    assert.deepEqual(outside.seen.slice(seen).filter((x) => !CHROMIUM_SERVICES.test(x)), ["GET http://example.invalid/probe"]);
    assert.deepEqual(pageErrors, []);
  });
});
