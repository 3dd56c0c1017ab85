// app.js — Field Notes, the edgetag demo: the wiring. It registers the service worker (the app shell and both
// engine builds, precached by Workbox), loads the three models through the library (workers, IndexedDB
// cache), and runs each note through analyse() into the page and the history.
//
// Modules: models.js (loading, progress), cloud.js (escalation under the settings), analyse.js (one note),
// spans.js (pieces, placeholders, names), render.js (the page), history.js (IndexedDB), settings.js,
// status.js (online/offline, progress, readiness).

import { relaxedSimdSupported, version } from "./web/edgetag.js";
import { analyse } from "./analyse.js";
import { createCloud } from "./cloud.js";
import { openHistory } from "./history.js";
import { allCached, loadModels, modelsStored, storing } from "./models.js";
import { clearResults, renderHistory, renderRecord } from "./render.js";
import { bindSettingsDialog, loadSettings } from "./settings.js";
import { finishLoading, setReady, showLoadingError, showProgress, watchConnection } from "./status.js";

/** Examples: one the models are sure of, one they are not (with personal data), one in between. */
const SAMPLES = [
  { label: "Leaking pump", note: "replace leaking hydraulic pump seal on excavator 12", request: "order two new rollers for the tail pulley" },
  { label: "Loose fan belt", note: "fan belt loose on compressor 2, tightened. Anna Kowalski will check it Friday, call her on +44 7700 900123",
    request: "when was the compressor last serviced" },
  { label: "Torn conveyor belt", note: "conveyor belt torn near tail pulley, replaced 2 rollers", request: "set a reminder to check the belt on friday" },
];

const $ = (id) => document.getElementById(id);
const state = { settings: null, models: null, cloud: null, history: null, records: [], selected: null, busy: false, worker: undefined };

function announce(text) {
  $("announce").textContent = text;
}

/** The service worker (sw.js): the app shell and both engine builds, precached. */
async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return "this browser has no service workers";
  try {
    await navigator.serviceWorker.register("sw.js");
    await navigator.serviceWorker.ready;
    return null;
  } catch (e) {
    return `the service worker did not install: ${e.message}`;
  }
}

function updateReadiness() {
  if (!state.models) return;
  const cached = allCached(state.models.origins);
  const controlled = Boolean(navigator.serviceWorker?.controller);
  if (storing(state.models.origins)) setReady("busy", "Preparing", "Storing the models on this device.");
  else if (cached && controlled) setReady("ready", "Works offline", "The app and its models are stored on this device.");
  else if (!cached) setReady("partial", "Online only", "The models could not be stored on this device: they will download again next time.");
  else if (state.worker) setReady("partial", "Online only", state.worker);
  else setReady("busy", "Preparing", "Storing the app's files for offline use.");
  document.body.dataset.offlineReady = String(cached && controlled);
}

function engineLine() {
  const flavour = relaxedSimdSupported() ? "relaxed-SIMD build" : "SIMD128 build";
  const from = state.models ? Object.values(state.models.origins).every((o) => o?.kind === "cache") ? "models read from this device" : "models downloaded" : "";
  $("engine-line").textContent = [`edgetag ${version}`, flavour, from, "runs in Web Workers"].filter(Boolean).join(" · ");
}

async function startModels() {
  setReady("busy", "Preparing");
  // The download card on a first visit (or after the browser dropped the models); from the cache, no card.
  $("loading").hidden = await modelsStored();
  try {
    state.models = await loadModels({ onProgress: showProgress });
  } catch (e) {
    setReady("partial", "Not ready");
    const hint = navigator.onLine ? "Check the connection and try again." :
      "You are offline and the models are not on this device yet: connect once to download them (about 18 MB).";
    showLoadingError(`The models could not be loaded: ${e.message}. ${hint}`, startModels);
    return;
  }
  finishLoading({ downloaded: Object.values(state.models.origins).some((o) => o.kind === "network") });
  state.cloud = createCloud(state.models, state.settings);
  $("analyse").disabled = false;
  document.body.dataset.models = "ready";
  updateReadiness();
  state.models.stored.then((origins) => {
    state.models.origins = origins;
    updateReadiness();
  });
  engineLine();
}

async function refreshHistory() {
  state.records = await state.history.list();
  renderHistory($("history-list"), state.records, { selected: state.selected, onSelect: (r) => showRecord(r) });
  $("history-empty").hidden = state.records.length > 0;
  $("history-count").textContent = state.records.length ? String(state.records.length) : "";
  $("export").disabled = $("clear-history").disabled = state.records.length === 0;
}

/** On a one-column screen, brings the results into view (smoothly, unless the user asks for less motion). */
function revealResults() {
  if (!matchMedia("(max-width: 959px)").matches) return;
  const behavior = matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  $("results").scrollIntoView({ behavior, block: "start" });
}

function showRecord(record, { scroll = true } = {}) {
  state.selected = record.id;
  renderRecord(document, record);
  renderHistory($("history-list"), state.records, { selected: state.selected, onSelect: (r) => showRecord(r) });
  if (scroll) revealResults();
}

async function onSubmit(event) {
  event.preventDefault();
  if (state.busy || !state.models) return;
  const note = $("note").value.trim();
  const request = $("request").value.trim();
  if (!note) {
    $("note").setAttribute("aria-invalid", "true");
    $("note-hint").textContent = "Write a note first: a line or two about the equipment and what you found.";
    $("note").focus();
    return;
  }
  $("note").removeAttribute("aria-invalid");
  state.busy = true;
  const button = $("analyse");
  button.disabled = true;
  button.textContent = "Tagging…";
  $("results").setAttribute("aria-busy", "true");
  try {
    const record = await analyse({ note, request }, { cloud: state.cloud, models: state.models, settings: state.settings });
    record.id = await state.history.add(record);
    state.selected = record.id;
    renderRecord(document, record);
    await refreshHistory();
    revealResults();
    const sources = [record.entities.source, record.intent?.source].filter(Boolean);
    announce(`Saved. ${record.entities.items.length} tagged, ${record.pii.items.length} personal data, ` +
      (record.intent ? `request routed to ${record.intent.label}, ` : "") + `answered ${sources.includes("cloud") ? "partly by the cloud" : "on this device"}.`);
  } catch (e) {
    announce(`The note could not be tagged: ${e.message}`);
    $("note-hint").textContent = `The note could not be tagged: ${e.message}`;
  } finally {
    state.busy = false;
    button.disabled = false;
    button.textContent = "Tag & save";
    $("results").removeAttribute("aria-busy");
  }
}

function bindCompose() {
  $("compose").addEventListener("submit", onSubmit);
  for (const id of ["note", "request"])
    $(id).addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        $("compose").requestSubmit();
      }
    });
  $("samples").replaceChildren(...SAMPLES.map((s) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "chip";
    b.textContent = s.label;
    b.addEventListener("click", () => {
      $("note").value = s.note;
      $("request").value = s.request;
      $("note").focus();
    });
    return b;
  }));
}

function bindHistoryTools() {
  $("export").addEventListener("click", () => state.history.download(state.records));
  $("clear-history").addEventListener("click", async () => {
    if (!confirm(`Delete all ${state.records.length} saved notes from this device?`)) return;
    await state.history.clear();
    state.selected = null;
    clearResults(document);
    await refreshHistory();
    announce("History cleared.");
  });
}

async function main() {
  bindCompose();
  bindHistoryTools();
  watchConnection();
  engineLine();
  state.settings = await loadSettings();
  bindSettingsDialog($("settings"), $("open-settings"), {
    get: () => state.settings,
    thresholds: () => state.models && { notes: state.models.notes.info.threshold, intents: state.models.intents.info.threshold },
    onSave: (next) => {
      state.settings = next;
      if (state.models) state.cloud = createCloud(state.models, next);
      announce("Settings saved on this device.");
    },
  });
  state.history = await openHistory();
  await refreshHistory();
  if (state.records.length) showRecord(state.records[0], { scroll: false });
  const worker = registerServiceWorker().then((problem) => {
    state.worker = problem;
    updateReadiness();
  });
  // A service worker taking over a page it already controlled is a new version of the app: offer a reload
  // (this page keeps running the version it started with until then).
  const hadController = Boolean(navigator.serviceWorker?.controller);
  navigator.serviceWorker?.addEventListener("controllerchange", () => {
    updateReadiness();
    if (hadController) $("update-banner").hidden = false;
  });
  $("update-reload").addEventListener("click", () => location.reload());
  await startModels();
  await worker;
}

main().catch((e) => {
  setReady("partial", "Error");
  showLoadingError(`Field Notes could not start: ${e.message}`, () => location.reload());
});
