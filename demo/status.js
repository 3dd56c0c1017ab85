// status.js — what the app tells about itself: online or offline (a pill and a banner that follow the
// browser's online/offline events), the first download's progress, and whether it is ready to work offline.

import { el } from "./render.js";

const MB = (n) => `${(n / 1e6).toFixed(1)} MB`;

/** Follows navigator.onLine; calls onChange(online) after each change. */
export function watchConnection(onChange) {
  const pill = document.getElementById("net"), text = document.getElementById("net-text");
  const banner = document.getElementById("offline-banner");
  const show = () => {
    const online = navigator.onLine;
    pill.dataset.state = online ? "online" : "offline";
    text.textContent = online ? "Online" : "Offline";
    banner.hidden = online;
    onChange?.(online);
  };
  addEventListener("online", show);
  addEventListener("offline", show);
  show();
}

/** The readiness pill: "busy" while loading, "ready" when everything works offline, "partial" otherwise. */
export function setReady(state, label, title = "") {
  const pill = document.getElementById("ready");
  pill.dataset.state = state;
  pill.title = title;
  document.getElementById("ready-text").textContent = label;
}

/** The loading card's progress bar and per-model lines, from loadModels()'s progress. */
export function showProgress({ loaded, total, fraction, models }) {
  const bar = document.getElementById("loading-bar");
  bar.max = 1;
  bar.value = fraction;
  const done = models.filter((m) => m.done).length;
  document.getElementById("loading-amount").textContent = total ? `${MB(loaded)} of ${MB(total)}`
    : `${done} of ${models.length} models${loaded ? ` · ${MB(loaded)}` : ""}`;
  document.getElementById("loading-models").replaceChildren(...models.map((m) => {
    const pct = m.total ? Math.floor((100 * m.loaded) / m.total) : 0;
    const state = m.done ? (m.origin?.kind === "cache" ? "on this device" : "ready") : m.total ? `${pct} %` : "waiting";
    return el("li", { dataset: { done: String(m.done) } },
      el("span", { class: "model-title" }, m.title), el("span", { class: "model-state" }, state));
  }));
}

/** Ends the loading card: hidden once the models are in (after a first download, a moment later). */
export function finishLoading({ downloaded }) {
  const card = document.getElementById("loading");
  if (!downloaded) {
    card.hidden = true;
    return;
  }
  document.getElementById("loading-title").textContent = "Ready to work offline";
  document.getElementById("loading-detail").textContent = "The models are stored on this device. Field Notes now works with no signal.";
  card.dataset.state = "done";
  setTimeout(() => { card.hidden = true; }, 2500);
}

/** The loading card's error, with a retry button. */
export function showLoadingError(message, onRetry) {
  document.getElementById("loading").hidden = false;
  const box = document.getElementById("loading-error");
  document.getElementById("loading-error-text").textContent = message;
  box.hidden = false;
  const retry = document.getElementById("loading-retry");
  retry.onclick = () => {
    box.hidden = true;
    onRetry();
  };
}
