// workerd.mjs — runs Workers in workerd (npm `workerd`) as the package test needs them: a config.capnp
// written into `dir` with one service and one socket on 127.0.0.1 (a port of workerd's choosing) per worker,
// each worker's modules embedded from files under `dir` by type — esModule (.js), wasm (.wasm, a
// WebAssembly.Module to its importer), data (anything else, an ArrayBuffer).
import { writeFileSync } from "node:fs";
import { extname, join } from "node:path";

import { startWorkerd } from "../worker/harness.mjs";

const q = JSON.stringify; // capnp's string literals are JSON's

function moduleEntry({ name, file }) {
  const kind = { ".js": "esModule", ".mjs": "esModule", ".wasm": "wasm" }[extname(file)] ?? "data";
  return `(name = ${q(name)}, ${kind} = embed ${q(file)})`;
}

/**
 * Starts workerd with `workers` ({name: {modules: [{name, file}], date, flags?}}, the first module the main
 * one, files relative to `dir`); resolves {ports: {name: port}, stop(), log()} once every socket listens.
 */
export function startWorkers(dir, workers) {
  const names = Object.keys(workers);
  const id = (n) => `worker${names.indexOf(n)}`; // capnp wants camelCase declaration names
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${names.map((n) => `(name = ${q(n)}, worker = .${id(n)})`).join(",\n    ")} ],
  sockets = [ ${names.map((n) => `(name = ${q(n)}, address = "127.0.0.1:0", http = (), service = ${q(n)})`).join(",\n    ")} ],
);
${names.map((n) => {
    const w = workers[n];
    return `const ${id(n)} :Workerd.Worker = (
  modules = [ ${w.modules.map(moduleEntry).join(",\n    ")} ],
  compatibilityDate = ${q(w.date)},
  compatibilityFlags = [ ${(w.flags ?? []).map(q).join(", ")} ],
);`;
  }).join("\n")}
`;
  writeFileSync(join(dir, "config.capnp"), config);
  return startConfig(join(dir, "config.capnp"), names);
}

/** workerd on a written config, through the worker suites' harness (random ports, stopped by PID). */
async function startConfig(config, sockets) {
  const server = await startWorkerd(config, { sockets });
  return { ports: server.ports, stop: server.stop, log: () => `${server.lines.join("\n")}\n${server.stderr}` };
}
