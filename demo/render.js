// render.js — an analysis record on the page: the note with its entities and its personal data highlighted
// inline, what would leave the device, the request's intent, a local/cloud badge with the latency on each
// answer and the reason it came from where it did; and the history list.
//
// Everything the user typed reaches the page as text nodes (never as HTML): el(…) builds elements from
// strings with textContent.

import { humanize, pieces, placeholderPieces, score, typeName } from "./spans.js";

/** An element with a class and children (strings become text nodes). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const ms = (t) => (t < 10 ? `${t.toFixed(1)} ms` : `${Math.round(t)} ms`);

/** The entity types of maint-ner, in the order of the legend; anything else (PII) shares one colour. */
const NOTE_TYPES = ["PhysicalObject", "Activity", "Process", "State", "Property"];

/**
 * Text with its entities as <mark>s, each ending in a chip with its label and score; those scored below
 * `threshold` are marked unsure (a dashed outline). The entity's last word and its chip do not wrap apart
 * (the chip never starts a line on its own).
 */
export function renderTagged(target, text, entities, { kind, threshold = null }) {
  target.replaceChildren(...pieces(text, entities).map(({ text: t, entity }) => {
    if (!entity) return document.createTextNode(t);
    const type = kind === "pii" ? "pii" : entity.label;
    const cut = t.length <= 24 ? 0 : t.search(/\S+\s*$/); // a short entity never wraps at all
    const chip = el("span", { class: "ent-tag" }, typeName(entity.label),
      typeof entity.score === "number" ? [" ", el("span", { class: "ent-score" }, score(entity.score))] : null);
    const unsure = threshold !== null && typeof entity.score === "number" && entity.score < threshold;
    return el("mark", { class: "ent", dataset: { type, kind, label: entity.label, ...(unsure && { unsure: "true" }) },
      title: unsure ? `Unsure: ${score(entity.score)} is below ${score(threshold)}` : null },
      cut > 0 ? t.slice(0, cut) : null, el("span", { class: "ent-tail" }, t.slice(Math.max(cut, 0)), chip));
  }));
}

/** The badge of one answer: where it came from and how long it took. */
export function renderBadge(badge, { source, ms: t }) {
  badge.dataset.source = source;
  badge.replaceChildren(el("span", { class: "badge-icon", "aria-hidden": "true" }), source === "cloud" ? "Cloud" : "Local", ` · ${ms(t)}`);
  badge.title = source === "cloud" ? "Answered by the cloud model" : "Answered on this device";
}

const FAILURES = {
  network: "the cloud could not be reached", timeout: "the cloud did not answer in time", redirect: "the endpoint redirected",
  breaker_open: "the cloud failed several times, so it is paused for a moment", concurrency: "too many requests were waiting",
  redaction_failed: "the personal-data check failed, so nothing was sent", disposed: "the request was cancelled",
};

function failure(reason) {
  if (FAILURES[reason]) return FAILURES[reason];
  const http = /^http_(\d+)$/.exec(reason ?? "");
  if (http) return http[1] === "401" || http[1] === "403" ? `the cloud refused the key (HTTP ${http[1]})` : `the cloud answered HTTP ${http[1]}`;
  return reason ?? "the cloud could not answer";
}

/** Why an answer is local or cloud, in a sentence: the trigger, then what happened. */
export function reasonText(part, { what }) {
  const e = part.escalation ?? { wanted: false };
  const thr = score(part.threshold);
  const trigger = e.trigger === "label" ? "the model abstained: out of scope"
    : e.trigger === "model" ? "the model flagged its answer as unsure"
      : `${what} ${score(part.localScore)} is below ${thr}`;
  if (e.outcome === "off")
    return e.wanted ? `Unsure (${what} ${score(part.localScore)} < ${thr}), but no cloud endpoint is set: answered on this device.`
      : `Confident (${what} ${score(part.localScore)} ≥ ${thr}): answered on this device.`;
  if (!e.wanted) return `Confident (${what} ${score(part.localScore)} ≥ ${thr}): answered on this device, nothing sent.`;
  if (e.outcome === "answered") {
    const by = part.exchange?.servedBy ? ` Answered by ${part.exchange.servedBy}` : " The cloud answered";
    const because = part.exchange?.rationale ? `: ${part.exchange.rationale}.` : ".";
    return `Unsure (${trigger}), so the cloud was asked and answered in ${ms(e.latencyMs ?? part.ms)}.${by}${because}`;
  }
  if (e.reason === "offline") return `Offline: ${trigger}, but nothing is sent without a connection. Kept the on-device answer.`;
  if (e.outcome === "rejected") return `Unsure (${trigger}); the cloud's answer did not check out (${e.detail ?? "invalid"}). Kept the on-device answer.`;
  return `Unsure (${trigger}), but ${failure(e.reason)}. Kept the on-device answer.`;
}

/** The legend of the entity types present, and of the unsure outline when an entity has it. */
function renderLegend(list, entities, threshold) {
  const present = NOTE_TYPES.filter((t) => entities.some((e) => e.label === t));
  const unsure = entities.some((e) => typeof e.score === "number" && e.score < threshold);
  const items = present.map((t) => el("li", { dataset: { type: t } }, el("span", { class: "swatch", "aria-hidden": "true" }), typeName(t)));
  if (unsure) items.push(el("li", { class: "legend-unsure" }, el("span", { class: "swatch", "aria-hidden": "true" }), `dashed: below ${score(threshold)}`));
  list.replaceChildren(...items);
  list.hidden = present.length === 0;
}

/** "2 items: Person, Phone number" */
function piiSummary(items) {
  if (!items.length) return "No personal data found.";
  const counts = new Map();
  for (const e of items) counts.set(humanize(e.label), (counts.get(humanize(e.label)) ?? 0) + 1);
  const kinds = [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(", ");
  return `Found on this device: ${kinds}.`;
}

/** One line of what would leave the device, placeholders marked. */
function sentLine(label, part, wasSent) {
  return el("div", { class: "sent-line" },
    el("span", { class: "sent-label" }, label, wasSent ? el("span", { class: "sent-flag" }, "sent") : null),
    el("p", { class: "sent-text" }, ...placeholderPieces(part.sent).map((p) => (p.placeholder ? el("span", { class: "ph" }, p.text) : p.text))));
}

/** An intent as people say it; the model's abstain label ("oos") is "Out of scope". */
export const intentName = (label, abstain = "oos") => (label === abstain ? "Out of scope" : humanize(label));

/** Shows one analysis record in the results column. */
export function renderRecord(root, record) {
  const $ = (id) => root.querySelector(`#${id}`);
  $("results-empty").hidden = true;

  const ent = record.entities;
  $("entities-card").hidden = false;
  renderTagged($("entities-text"), record.note, ent.items, { kind: "note", threshold: ent.threshold });
  renderBadge($("entities-badge"), ent);
  $("entities-why").textContent = (ent.items.length ? "" : "No equipment, activity or fault found. ") + reasonText(ent, { what: "lowest score" });
  renderLegend($("entities-legend"), ent.items, ent.threshold);

  $("pii-card").hidden = false;
  renderTagged($("pii-text"), record.note, record.pii.items, { kind: "pii" });
  renderBadge($("pii-badge"), { source: "local", ms: record.pii.ms + (record.requestPii?.ms ?? 0) });
  $("pii-summary").textContent = piiSummary([...record.pii.items, ...(record.requestPii?.items ?? [])]);
  const received = (x) => Boolean(x && !x.unreached);
  const noteSent = received(ent.exchange), requestSent = received(record.intent?.exchange);
  const tried = Boolean(ent.exchange?.unreached || record.intent?.exchange?.unreached);
  $("sent-state").textContent = noteSent || requestSent ? "" : tried ? "— the cloud could not be reached, nothing arrived" : "— nothing left the device";
  const lines = [sentLine("Note", record.pii, noteSent)];
  if (record.requestPii) lines.push(sentLine("Request", record.requestPii, requestSent));
  if (!record.pii.redacted) lines.unshift(el("p", { class: "warning" }, "Redaction is off: these texts would be sent as written."));
  $("sent-preview").replaceChildren(...lines);

  const it = record.intent;
  $("intent-card").hidden = !it;
  if (it) {
    $("intent-request").textContent = record.request;
    $("intent-label").replaceChildren(intentName(it.label, it.abstainLabel), el("code", {}, it.label));
    $("intent-meter").value = typeof it.score === "number" ? it.score : 0;
    $("intent-score").textContent = typeof it.score === "number" ? `${Math.round(it.score * 100)} %` : "—";
    renderBadge($("intent-badge"), it);
    const local = it.source === "cloud" ? ` On-device guess was ${intentName(it.localLabel, it.abstainLabel)} (${score(it.localScore)}).` : "";
    $("intent-why").textContent = reasonText(it, { what: "confidence" }) + local;
  }
}

/** Hides every result card (an empty history, a cleared one). */
export function clearResults(root) {
  root.querySelector("#results-empty").hidden = false;
  for (const id of ["entities-card", "pii-card", "intent-card"]) root.querySelector(`#${id}`).hidden = true;
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The history list: one button per saved note, newest first. */
export function renderHistory(list, records, { selected, onSelect }) {
  list.replaceChildren(...records.map((r) => {
    const sources = [r.entities?.source, r.intent?.source].filter(Boolean);
    const meta = [`${r.entities?.items.length ?? 0} tagged`, `${r.pii?.items.length ?? 0} personal`];
    if (r.intent) meta.push(intentName(r.intent.label, r.intent.abstainLabel));
    const button = el("button", { type: "button", class: "history-item", "aria-current": r.id === selected ? "true" : null },
      el("span", { class: "history-top" },
        el("time", { datetime: r.createdAt }, TIME.format(new Date(r.createdAt))),
        el("span", { class: "history-sources" }, ...[...new Set(sources)].map((s) => el("span", { class: "mini-badge", dataset: { source: s } }, s)))),
      el("span", { class: "history-note" }, r.note.length > 120 ? r.note.slice(0, 119) + "…" : r.note),
      el("span", { class: "history-meta" }, meta.join(" · ")));
    button.addEventListener("click", () => onSelect(r));
    return el("li", {}, button);
  }));
}
