// cloud.js — local first, the cloud when unsure: the library's withEscalation around the note and request
// models, under the user's settings (threshold, endpoint, key, redaction), and a record of each exchange so
// the app can show what left the device and who answered.
//
//   const cloud = createCloud(models, settings);
//   const mark = cloud.mark();
//   const r = await cloud.notes.extract(note);     // {entities, source: "local" | "cloud", escalation, …}
//   cloud.exchangesSince(mark);                    // [{task, sent, servedBy, rationale, status}]
//
// The escalation itself — whether to ask, offline, retries, the breaker, redaction, checking the answer —
// is the library's. The only thing added here is policy.fetch, which records the request body's user
// message and reads the stand-in's "served_by" and "rationale" fields from a copy of the response.

import { anyOf, patternRedactor, piiFinder, withEscalation } from "./web/edgetag.js";

/**
 * What counts as personal data here, of the types the pii-ner model and patternRedactor() find: what
 * identifies or reaches a person (names, contact details, addresses, identity and account numbers). The
 * model's other types (organisations, places, groups, titles, dates, domain names) stay in the text: in
 * maintenance notes they are equipment, sites and times far more often than people, and the cloud needs them.
 */
export const PERSONAL_TYPES = Object.freeze(["PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "STREET_ADDRESS", "CREDIT_CARD",
  "IBAN_CODE", "US_SSN", "US_DRIVER_LICENSE", "IP_ADDRESS", "AGE"]);

/**
 * Field notes must stay readable for the cloud: a bound above the library's 0.1, which would also replace
 * work-order words next to a name ("tightened. Anna Kowalski": "tightened" is 0.2 likely a name to pii-ner).
 * On the realistic set (make eval) 0.25 leaks 7.6 % of personal-data entities instead of 4.8 % (the demo also
 * keeps to PERSONAL_TYPES).
 */
export const MIN_PROBABILITY = 0.25;

/**
 * The finder of personal data: the pii-ner model as piiFinder() (every word it gives at least
 * MIN_PROBABILITY of being personal data, not only its most likely tags) and the library's checkable
 * patterns, kept to PERSONAL_TYPES.
 */
export function personalDataFinder(models) {
  const both = anyOf(piiFinder(models.pii, { minProbability: MIN_PROBABILITY }), patternRedactor());
  return {
    async extract(text) {
      const { entities } = await both.extract(text);
      return { entities: entities.filter((e) => PERSONAL_TYPES.includes(e.label)) };
    },
  };
}

/** A fetch that records what each request sent and what answered it, then returns the response untouched. */
function recordingFetch(exchanges) {
  return async (url, init) => {
    const entry = { url: String(url), at: Date.now(), task: null, sent: null, servedBy: null, rationale: null, status: null };
    try {
      const body = JSON.parse(init.body);
      entry.sent = body.messages?.findLast((m) => m.role === "user")?.content ?? null;
      entry.task = body.response_format?.json_schema?.name === "classification" ? "classify" : "extract";
    } catch { /* not the OpenAI adapter's body: recorded without it */ }
    exchanges.push(entry);
    const response = await fetch(url, init);
    entry.status = response.status;
    if (response.ok) {
      try {
        const json = await response.clone().json();
        entry.servedBy = typeof json.served_by === "string" ? json.served_by : (typeof json.model === "string" ? json.model : null);
        entry.rationale = typeof json.rationale === "string" ? json.rationale : null;
      } catch { /* the library rejects a body that is not JSON; nothing to show */ }
    }
    return response;
  };
}

/**
 * The escalating taggers for the current settings: {notes, intents, enabled, mark(), exchangesSince(mark)}.
 * With no endpoint the models answer alone (enabled: false) and each result says the cloud is off.
 */
export function createCloud(models, settings) {
  const exchanges = [];
  const finder = personalDataFinder(models);
  const enabled = Boolean(settings.endpoint);
  const headers = settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {};
  const policy = () => ({
    endpoint: { kind: "openai", url: settings.endpoint, model: settings.model || "default", headers },
    threshold: settings.threshold ?? undefined,
    redact: settings.redact ? finder : false,
    fetch: recordingFetch(exchanges),
    timeoutMs: 8000,
    retries: 1,
  });
  return {
    enabled,
    finder,
    notes: enabled ? withEscalation(models.notes, policy()) : offTagger(models.notes, settings),
    intents: enabled ? withEscalation(models.intents, policy()) : offTagger(models.intents, settings),
    mark: () => exchanges.length,
    exchangesSince: (mark) => exchanges.slice(mark),
  };
}

/**
 * A model's answers in the escalating tagger's shape, for when no endpoint is set: `wanted` says whether the
 * cloud would have been asked (below the threshold, or the model's abstain label), as withEscalation decides.
 */
function offTagger(model, settings) {
  const threshold = thresholdOf(settings, model);
  const off = (wanted) => ({ wanted, outcome: "off", reason: "no_endpoint" });
  return {
    info: model.info,
    async extract(text) {
      const r = await model.extract(text);
      const localScore = r.entities.reduce((m, e) => Math.min(m, e.score), 1);
      return { entities: r.entities, source: "local", localScore, escalation: off(!(localScore >= threshold)) };
    },
    async classify(text) {
      const r = await model.classify(text);
      const wanted = !(r.score >= threshold) || r.label === model.info.abstainLabel;
      return { ...r, source: "local", localLabel: r.label, localScore: r.score, escalation: off(wanted) };
    },
  };
}

/** The threshold an answer was held to: the user's, or the model's calibrated one. */
export function thresholdOf(settings, model) {
  return typeof settings.threshold === "number" ? settings.threshold : model.info.threshold;
}
