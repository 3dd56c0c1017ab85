// workerd.mjs — runs Workers in workerd (npm `workerd`) as the package test needs them: a config.capnp
// written into `dir` with one service and one socket on 127.0.0.1 (a port of workerd's choosing) per worker,
// each worker's modules embedded from files under `dir` by type — esModule (.js), wasm (.wasm, a
// WebAssembly.Module to its importer), data (anything else, an ArrayBuffer).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { extname, join } from "node:path";

const q = JSON.stringify; // capnp's string literals are JSON's

function moduleEntry({ name, file }) {
  const kind = { ".js": "esModule", ".mjs": "esModule", ".wasm": "wasm" }[extname(file)] ?? "data";
  return `(name = ${q(name)}, ${kind} = embed ${q(file)})`;
}

/**
 * Starts workerd with `workers` ({name: {modules: [{name, file}], date, flags?}}, the first module the main
 * one, files relative to `dir`); resolves {ports: {name: port}, stop()} once every socket listens.
 */
export function startWorkerd(binary, dir, workers) {
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
  const child = spawn(binary, ["serve", "config.capnp", "--control-fd=3"], { cwd: dir, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (c) => { log += c; });
  child.stderr.on("data", (c) => { log += c; });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5000).unref();
  });
  return new Promise((resolve, reject) => {
    const ports = {};
    let control = "";
    const timer = setTimeout(() => { stop(); reject(new Error(`workerd did not listen in 30 s:\n${log}`)); }, 30000);
    child.stdio[3].on("data", (chunk) => {
      control += chunk;
      for (const line of control.split("\n").slice(0, -1)) {
        const event = JSON.parse(line);
        if (event.event === "listen") ports[event.socket] = event.port;
      }
      control = control.slice(control.lastIndexOf("\n") + 1);
      if (names.every((n) => ports[n])) { clearTimeout(timer); resolve({ ports, stop, log: () => log }); }
    });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`workerd exited (${code}):\n${log}`)); });
  });
}
