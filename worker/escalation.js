// escalation.js — the library's escalation policy (web/escalate/) from the service's configuration: the
// endpoint with the cloud key from its secret, and redaction by the configured PII models and patterns.
// The key lives only in the endpoint's headers: it is never logged, returned or put in an error message
// (the library never includes headers in what it reports, and describeEscalation() says only whether a
// key is set).

import { anyOf, patternRedactor, piiFinder, withEscalation } from "../web/edgetag.js";

/**
 * A finder of personal data for `redact`: the configured PII models (loaded on first use, through the
 * registry, like any model), each as piiFinder() — every word it gives at least `minProbability` of being
 * personal data — and/or "patterns" (web/redact.js's patternRedactor()). When a PII model cannot be had,
 * its extract() throws, and the library then sends nothing (outcome "skipped", reason "redaction_failed").
 * @param {string[]} names @param {{get(name: string): Promise<{model: object}>}} registry
 * @param {number} minProbability
 */
export function redactor(names, registry, minProbability) {
  if (!names.length) return null;
  const finders = names.map((name) => name === "patterns" ? patternRedactor() : {
    async extract(text) {
      const entry = await registry.get(name);
      return piiFinder(entry.model, { minProbability }).extract(text);
    },
  });
  return anyOf(...finders);
}

/**
 * Wraps a loaded model with the escalation policy, or returns null when escalation is off for it
 * (no EDGETAG_ESCALATION, or the model's entry says escalate: false).
 * @param {object} model a loaded web/ Model @param {object} spec the model's configuration
 * @param {object} config the service's configuration @param {object|null} redact a finder from redactor()
 */
export function escalatingTagger(model, spec, config, redact, captureStore = null) {
  const e = config.escalation;
  if (!e || spec.escalate === false) return null;
  const { url, kind, model: cloudModel, keyHeader, redact: _names, redactMinProbability: _p, threshold, ...numbers } = e;
  const headers = {};
  if (config.cloudKey) headers[keyHeader] = keyHeader.toLowerCase() === "authorization" ? `Bearer ${config.cloudKey}` : config.cloudKey;
  const policy = {
    ...numbers,
    endpoint: { url, kind, headers, ...(cloudModel !== undefined && { model: cloudModel }) },
    threshold: spec.threshold ?? threshold,
  };
  if (redact) policy.redact = redact;
  // Recorded only for requests that say "capture": true (api.js passes it per call).
  if (captureStore) policy.capture = { store: captureStore, consent: "per-call" };
  return withEscalation(model, policy);
}

/** What /v1/health and /v1/models say about escalation: where it goes, never the key. */
export function describeEscalation(config) {
  const e = config.escalation;
  if (!e) return { enabled: false };
  return { enabled: true, url: e.url, kind: e.kind, model: e.model ?? null, keySet: Boolean(config.cloudKey), redact: [...e.redact],
    ...(config.capture && { capture: { store: config.capture.store, consent: "per-request" } }) };
}
