// consent.js — the escalation policy's `capture` option: where escalations answered by the cloud are recorded,
// and the consent without which nothing is.
//
//   capture: { store: indexedDBCaptureStore(), consent: true }             the user agreed: record them all
//   capture: { store, consent: () => settings.shareForTraining }           asked for each record (a toggle)
//   capture: { store, consent: "per-call" }                                only calls made with {capture: true}
//
// consent has no default: a capture option without it is refused, and consent false (or a function answering
// anything but true, or throwing) records nothing.

import { EdgetagError } from "../errors.js";
import { isCaptureStore } from "./stores.js";

const CAPTURE_KEYS = ["store", "consent"];

function invalid(message) {
  return new EdgetagError("INVALID_ARGUMENT", `edgetag: ${message}`);
}

/** policy.capture checked: null (no capture) or {store, consent}. */
export function resolveCapture(capture) {
  if (capture === undefined || capture === null || capture === false) return null;
  if (typeof capture !== "object") throw invalid("policy.capture must be {store, consent}");
  for (const k of Object.keys(capture))
    if (!CAPTURE_KEYS.includes(k)) throw invalid(`policy.capture has no option ${JSON.stringify(k)} (it has ${CAPTURE_KEYS.join(", ")})`);
  if (!isCaptureStore(capture.store))
    throw invalid("policy.capture.store must be a capture store (indexedDBCaptureStore(), memoryCaptureStore(), …)");
  const c = capture.consent;
  if (c !== true && c !== false && c !== "per-call" && typeof c !== "function")
    throw invalid('policy.capture.consent must be given: true, false, "per-call" or a function answering true to record');
  return { store: capture.store, consent: c };
}

/** Whether this escalation may be recorded: the policy's consent, and for "per-call" the call's own {capture: true}. */
export async function consentGiven(capture, callCapture) {
  if (!capture || callCapture === false) return false;
  const c = capture.consent;
  if (c === "per-call") return callCapture === true;
  if (typeof c === "function") {
    try {
      return (await c()) === true;
    } catch {
      return false;
    }
  }
  return c === true;
}
