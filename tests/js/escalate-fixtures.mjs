// escalate-fixtures.mjs — what the escalation suites share: the scripted cloud on 127.0.0.1
// (cloud-server.mjs), a classifier and a token classifier, and a policy against that cloud.
//
// Models: models/intent-clinc.gguf (classifier), models/maint-ner.gguf (token classifier) and
// models/pii-ner.gguf (redaction). While the trained classifier and tagger are missing, the random-weight
// build/ref/tiny.gguf and build/ref/odd.gguf stand in (every case sets explicit thresholds, so none depends
// on the weights); the case that needs pii-ner is skipped without it. EDGETAG_MODEL_DIR overrides models/.
import { existsSync, readFileSync } from "node:fs";

import { load } from "../../web/edgetag.js";
import { startCloudServer } from "./cloud-server.mjs";
import { path, readBuilt, simd } from "./helpers.mjs";

export const MODEL_DIR = process.env.EDGETAG_MODEL_DIR ? process.env.EDGETAG_MODEL_DIR.replace(/\/?$/, "/") : path("models/");

/** The trained model when present, else the random-weight stand-in. */
export function modelFile(name, standIn) {
  const file = MODEL_DIR + name;
  return existsSync(file) ? file : path(standIn);
}

export const elapsed = (t0) => performance.now() - t0;
/** Timing tolerance: what a loaded CI machine may add to a wait (stalls of ~0.5 s were seen on 2 busy cores). */
export const SLACK = 800;

/** A first word of the text, as an entity of the first type: the scripted cloud's extraction answer. */
export function firstWord({ text, entityTypes }) {
  const m = /\p{L}+/u.exec(text);
  return { entities: m ? [{ label: entityTypes[0], text: m[0], start: m.index, end: m.index + m[0].length }] : [] };
}

function defaultAnswer(request) {
  if (request.task === "classify") return { label: request.labels[0], score: 0.97 };
  return firstWord(request);
}

/** The scripted cloud, the classifier and the token classifier of a suite. */
export async function startFixtures() {
  readBuilt("build/edgetag.wasm", "make wasm");
  const cloud = await startCloudServer({ answer: defaultAnswer });
  const classifier = await load(readFileSync(modelFile("intent-clinc.gguf", "build/ref/tiny.gguf")), { simd });
  const tagger = await load(readFileSync(modelFile("maint-ner.gguf", "build/ref/odd.gguf")), { simd });
  return { cloud, classifier, tagger };
}

export async function stopFixtures({ cloud, classifier, tagger }) {
  await cloud?.close();
  classifier?.dispose();
  tagger?.dispose();
}

/** A policy against the scripted cloud: fast timeouts and backoffs, no retries unless the case asks. */
export function cloudPolicy(cloud, overrides = {}) {
  return {
    endpoint: { kind: "openai", url: cloud.openaiUrl, model: "test-model", headers: { authorization: "Bearer test-key" } },
    timeoutMs: 2000,
    retries: 0,
    backoffMs: 10,
    ...overrides,
  };
}

export const TEXT = "what is the balance of my checking account";
export const NER_TEXT = "Replaced the hydraulic pump after an oil leak on engine 2";
