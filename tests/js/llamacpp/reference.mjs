// reference.mjs — the independent llama.cpp of the llamacpp*.test.mjs suites: npm node-llama-cpp 3.22.1 (llama.cpp
// release v0.5.0, its prebuilt Linux x64 CPU binary), installed apart from the root package into build/llamacpp
// by `make llamacpp` (tests/js/llamacpp/package.json). Loaded once, quietly (warnings it prints about every BERT
// file are listed in models/FORMAT.md), on one thread.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";

import { path } from "../helpers.mjs";

const ENTRY = "build/llamacpp/node_modules/node-llama-cpp/dist/index.js";
let llama;

/** {llama, version}: node-llama-cpp's Llama, CPU only, never building anything. */
export async function referenceLlama() {
  if (llama) return llama;
  if (!existsSync(path(ENTRY))) throw new Error(`${ENTRY} is missing: run \`make llamacpp\` (make test-js does)`);
  const { getLlama, LlamaLogLevel } = await import(pathToFileURL(path(ENTRY)).href);
  const instance = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 1 });
  llama = { llama: instance, version: instance.llamaCppRelease?.release ?? "?" };
  return llama;
}

/** A model file loaded by llama.cpp (vocabOnly: its tokenizer only). */
export async function llamaModel(file, { vocabOnly = false } = {}) {
  const { llama: l } = await referenceLlama();
  return l.loadModel({ modelPath: path(file), vocabOnly });
}
