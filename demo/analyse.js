// analyse.js — one note through the three models: its personal data (on the device, always), its entities
// and its request's intent (each local first, the cloud when the local answer is unsure and the device is
// online), timed. The result is a plain record: the app renders it and the history stores it as it is.
//
//   const record = await analyse({ note, request }, { cloud, models, settings });

import { redactText } from "./web/edgetag.js";
import { redactPreview } from "./spans.js";
import { thresholdOf } from "./cloud.js";

const now = () => performance.now();
const entityOf = ({ label, score, start, end, text }) => ({ label, score, start, end, text });

/** Personal data in a text, and the text as it would leave the device under the settings. */
async function personalData(text, finder, settings) {
  const t0 = now();
  const { entities } = await finder.extract(text);
  const ms = now() - t0;
  const preview = settings.redact ? redactPreview(text, entities, redactText) : { text, replacements: [] };
  return { items: entities.map(entityOf), ms, sent: preview.text, replacements: preview.replacements, redacted: settings.redact };
}

/**
 * The cloud exchange of one answer: what the cloud received and who answered, when it received anything
 * (an HTTP status came back); {unreached: true} when every attempt failed before that; null when none was made.
 */
function exchangeOf(cloud, mark, task) {
  const mine = cloud.exchangesSince(mark).filter((x) => x.task === task);
  const last = mine.filter((x) => x.status !== null).at(-1);
  if (last) return { sent: last.sent, servedBy: last.servedBy, rationale: last.rationale, status: last.status, attempts: mine.length };
  return mine.length ? { unreached: true, attempts: mine.length } : null;
}

/** The note's entities: local, or the cloud's when it was asked and answered. */
async function entities(note, { cloud, models, settings }) {
  const mark = cloud.mark();
  const t0 = now();
  const r = await cloud.notes.extract(note);
  const ms = now() - t0;
  return {
    items: r.entities.map(entityOf),
    localItems: r.localEntities ? r.localEntities.map(entityOf) : null,
    source: r.source, ms, localScore: r.localScore, threshold: thresholdOf(settings, models.notes),
    escalation: r.escalation, exchange: exchangeOf(cloud, mark, "extract"),
  };
}

/** The request's intent: local, or the cloud's when it was asked and answered. */
async function intent(request, { cloud, models, settings }) {
  const mark = cloud.mark();
  const t0 = now();
  const r = await cloud.intents.classify(request);
  const ms = now() - t0;
  return {
    label: r.label, score: r.score, source: r.source, ms, localLabel: r.localLabel, localScore: r.localScore,
    threshold: thresholdOf(settings, models.intents), abstainLabel: models.intents.info.abstainLabel,
    escalation: r.escalation, exchange: exchangeOf(cloud, mark, "classify"),
  };
}

/**
 * Analyses a note and its optional request line. Never throws for the cloud (the library returns the local
 * answer with the reason); a model failure rejects.
 */
export async function analyse({ note, request }, ctx) {
  const online = navigator.onLine;
  const record = {
    createdAt: new Date().toISOString(),
    note, request: request || "",
    online,
    settings: { threshold: ctx.settings.threshold, redact: ctx.settings.redact, cloud: ctx.cloud.enabled ? hostOf(ctx.settings.endpoint) : null },
  };
  record.pii = await personalData(note, ctx.cloud.finder, ctx.settings);
  record.entities = await entities(note, ctx);
  if (request) {
    record.requestPii = await personalData(request, ctx.cloud.finder, ctx.settings);
    record.intent = await intent(request, ctx);
  } else {
    record.requestPii = null;
    record.intent = null;
  }
  return record;
}

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
