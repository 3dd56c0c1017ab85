// harness.mjs — what the worker suites share: workerd configurations (tests/worker/capnp.mjs), starting the
// service on workerd, Node or Deno on 127.0.0.1 with a random port, calling its API, and cleaning up.
// Every process started here is stopped by its PID when the suite ends (and killed if the test process
// exits first).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));
export const path = (p) => root + p;
export const WORKERD = path("node_modules/.bin/workerd");
export const DENO = path("node_modules/.bin/deno");
export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
export const modelBytes = (name) => readFileSync(path(`models/${name}.gguf`));

const live = new Set();
process.on("exit", () => { for (const p of live) try { p.kill("SIGKILL"); } catch { /* gone */ } });

/** A scratch directory under build/ (workerd resolves `embed` paths relative to its config file). */
export function scratchDir(prefix) {
  mkdirSync(path("build/worker-test"), { recursive: true });
  return mkdtempSync(path(`build/worker-test/${prefix}-`));
}

/**
 * Spawns a server that prints JSON lines with the ports it listens on: workerd on fd 3 (--control-fd),
 * Node and Deno on stdout ({"event":"listen","port":…}). Resolves {ports, lines, stderr, pid, stop()} once
 * every wanted socket listens; `lines` collects stdout's lines (the service's log) as they come.
 */
function startProcess(cmd, args, { env = {}, want, cwd = root, controlFd = false, timeoutMs = 60000 }) {
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe", ...(controlFd ? ["pipe"] : [])],
  });
  live.add(child);
  const lines = [], ports = {};
  let stderr = "", exited = null;
  const server = { child, pid: child.pid, lines, ports, get stderr() { return stderr; }, startMs: null };
  let out = "";
  const onListen = (line) => {
    try {
      const m = JSON.parse(line);
      if (m.event === "listen") ports[m.socket ?? "http"] = m.port;
      if (m.event === "listen-inspector") ports.inspector = m.port;
    } catch { /* a log line */ }
  };
  child.stdout.on("data", (d) => {
    out += d;
    const parts = out.split("\n");
    out = parts.pop();
    for (const l of parts) {
      lines.push(l);
      if (!controlFd) onListen(l);
    }
  });
  child.stderr.on("data", (d) => { stderr += d; });
  if (controlFd) {
    let ctl = "";
    child.stdio[3].on("data", (d) => {
      ctl += d;
      const parts = ctl.split("\n");
      ctl = parts.pop();
      parts.forEach(onListen);
    });
  }
  const exit = new Promise((resolve) => child.on("exit", (code, signal) => {
    live.delete(child);
    exited = { code, signal };
    resolve(exited);
  }));
  server.stop = async () => {
    if (exited) return exited;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    const r = await exit;
    clearTimeout(timer);
    return r;
  };
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (want.every((w) => ports[w])) {
        clearInterval(check);
        server.startMs = performance.now() - t0;
        server.base = `http://127.0.0.1:${ports[want[0]]}`;
        resolve(server);
      } else if (exited || performance.now() - t0 > timeoutMs) {
        clearInterval(check);
        server.stop();
        reject(new Error(`${cmd} did not start (${exited ? `exit ${exited.code ?? exited.signal}` : "timeout"}): ${stderr.slice(-2000)}`));
      }
    }, 5);
  });
}

/**
 * workerd serving `config` (a path) on random ports: the sockets named in `sockets` (the first is the API),
 * with the environment `env` (the config's fromEnvironment bindings read it). `inspector`: also the
 * DevTools inspector, for memory measurements.
 */
export function startWorkerd(config, { env = {}, sockets = ["http"], inspector = false, experimental = false } = {}) {
  const args = ["serve", config, "--control-fd", "3", ...sockets.flatMap((s) => ["--socket-addr", `${s}=127.0.0.1:0`])];
  if (inspector) args.push("--inspector-addr", "127.0.0.1:0");
  if (experimental) args.push("--experimental");
  return startProcess(WORKERD, args, { env, controlFd: true, want: inspector ? [...sockets, "inspector"] : sockets });
}

/** The Node entry point (worker/node.js) on a random port, under `node` (default: this process's Node). */
export function startNode({ env = {}, node = process.execPath } = {}) {
  return startProcess(node, ["worker/node.js"], { env: { ...env, EDGETAG_PORT: "0" }, want: ["http"] });
}

/** The Deno entry point (worker/deno.js) on a random port, with the permissions the README gives. */
export function startDeno({ env = {} } = {}) {
  return startProcess(DENO, ["run", "--quiet", "--no-prompt", "--allow-net=127.0.0.1", "--allow-env", `--allow-read=${root}`, "worker/deno.js"],
    { env: { ...env, EDGETAG_PORT: "0", DENO_NO_UPDATE_CHECK: "1", DENO_DIR: path("build/worker-test/deno-cache") }, want: ["http"] });
}

/**
 * Calls the API: {status, headers, body (parsed JSON or null), text}. `body` objects are sent as JSON,
 * strings as they are; `token` adds the bearer header.
 */
export async function call(base, route, { method, body, headers = {}, token } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && typeof body !== "string" && !(body instanceof ReadableStream) && !(body instanceof Uint8Array)) {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  const res = await fetch(base + route, {
    method: method ?? (body === undefined ? "GET" : "POST"), headers: h, body: payload,
    ...(payload instanceof ReadableStream && { duplex: "half" }),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch { /* not JSON: the caller checks */ }
  return { status: res.status, headers: res.headers, body: json, text };
}

/** Writes a file and returns its path. */
export function write(dir, name, text) {
  const p = `${dir}/${name}`;
  writeFileSync(p, text);
  return p;
}

/** Removes a scratch directory (after its processes stopped). */
export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Resolves when predicate() holds, polling; rejects after timeoutMs. */
export async function until(predicate, timeoutMs = 5000, what = "condition") {
  const t0 = performance.now();
  while (!(await predicate())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
