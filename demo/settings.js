// settings.js — the user's settings, kept on this device (localStorage): the escalation threshold (null: each
// model's calibrated one), the cloud endpoint, its model name and key, and redaction. The defaults come from
// config.json, which the demo's server writes (the stand-in cloud's URL) and the service worker precaches.
//
//   const settings = await loadSettings();
//   bindSettingsDialog(dialog, { get: () => settings, models, onSave: (next) => … });

const KEY = "edgetag-field-notes:settings";
const BUILT_IN = Object.freeze({ threshold: null, endpoint: "", model: "stand-in-rules", apiKey: "", redact: true });

/** The settings: what the user saved, over config.json's defaults, over the built-in ones. */
export async function loadSettings() {
  let defaults = { ...BUILT_IN };
  try {
    const res = await fetch("config.json");
    if (res.ok) {
      const c = await res.json();
      if (typeof c.cloudUrl === "string") defaults.endpoint = c.cloudUrl;
      if (typeof c.cloudModel === "string") defaults.model = c.cloudModel;
    }
  } catch { /* no config: the built-in defaults (the cloud off) */ }
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(KEY) ?? "{}") ?? {};
  } catch { /* unreadable: start again from the defaults */ }
  return normalize({ ...defaults, ...saved });
}

function normalize(s) {
  const t = s.threshold;
  return {
    threshold: typeof t === "number" && t >= 0 && t <= 1 ? t : null,
    endpoint: typeof s.endpoint === "string" ? s.endpoint.trim() : "",
    model: typeof s.model === "string" && s.model.trim() ? s.model.trim() : BUILT_IN.model,
    apiKey: typeof s.apiKey === "string" ? s.apiKey : "",
    redact: s.redact !== false,
  };
}

export function saveSettings(settings) {
  const s = normalize(settings);
  localStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

/**
 * Wires the settings dialog: filled from get() when opened, saved on "Save", left unchanged on Cancel or
 * Escape. `thresholds` are the models' calibrated thresholds, shown beside the "calibrated" choice.
 */
export function bindSettingsDialog(dialog, opener, { get, thresholds, onSave }) {
  const $ = (id) => dialog.querySelector(`#${id}`);
  const form = $("settings-form");
  const auto = $("threshold-auto"), range = $("threshold"), out = $("threshold-out");
  const endpoint = $("endpoint"), model = $("cloud-model"), key = $("api-key"), redact = $("redact");
  const warning = $("redact-warning");

  const showThreshold = () => {
    range.disabled = auto.checked;
    out.value = auto.checked ? "calibrated" : Number(range.value).toFixed(2);
  };
  const showWarning = () => { warning.hidden = redact.checked; };
  auto.addEventListener("change", showThreshold);
  range.addEventListener("input", showThreshold);
  redact.addEventListener("change", showWarning);

  opener.addEventListener("click", () => {
    const s = get();
    const t = thresholds();
    $("threshold-models").textContent = t ? `(notes ${t.notes.toFixed(2)}, requests ${t.intents.toFixed(2)})` : "";
    auto.checked = s.threshold === null;
    range.value = String(s.threshold ?? t?.notes ?? 0.8);
    endpoint.value = s.endpoint;
    model.value = s.model;
    key.value = s.apiKey;
    redact.checked = s.redact;
    showThreshold();
    showWarning();
    dialog.returnValue = ""; // Escape closes without a value: not a save
    dialog.showModal();
  });

  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "save") return;
    onSave(saveSettings({
      threshold: auto.checked ? null : Number(range.value),
      endpoint: endpoint.value, model: model.value, apiKey: key.value, redact: redact.checked,
    }));
  });
  // A URL the browser finds invalid keeps the dialog open with its message; Escape cancels.
  form.addEventListener("submit", (e) => {
    if (e.submitter?.value === "save" && !form.checkValidity()) {
      e.preventDefault();
      form.reportValidity();
    }
  });
}
