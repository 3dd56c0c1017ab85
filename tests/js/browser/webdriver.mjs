// webdriver.mjs — a small W3C WebDriver client (fetch over plain HTTP) and WebKitGTK's driver under a virtual
// X display: Safari's engine family (WebKitGTK's MiniBrowser, JavaScriptCore) for the browser tests.
//
//   const wk = await startWebKit();               // xvfb-run -a WebKitWebDriver --port=N, then a session
//   await wk.session.navigate("http://127.0.0.1:…/");
//   const title = await wk.session.execute("return document.title");
//   await wk.stop();                              // the session, then the driver and Xvfb by their PIDs
//
// xvfb-run starts Xvfb and the driver as its children and leaves both running when it is killed, so stop()
// finds them by parent PID (/proc) and ends each one by its own id.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export const WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver";
export const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/** Why WebKitGTK cannot run here, or null when it can. */
export function webkitMissing() {
  for (const f of [WEBKIT_DRIVER, MINIBROWSER, "/usr/bin/xvfb-run"])
    if (!existsSync(f)) return `${f} is missing: run \`make setup\` (it installs webkit2gtk-driver and xvfb)`;
  return null;
}

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The PIDs of every process whose parent is `pid`. */
function childrenOf(pid) {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(d));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** One W3C WebDriver session over HTTP. */
export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, capabilities) {
    const r = await command(base, "POST", "/session", { capabilities });
    return new Session(base, r.sessionId);
  }

  #cmd(method, path, body) {
    return command(this.base, method, `/session/${this.id}${path}`, body);
  }

  navigate(url) { return this.#cmd("POST", "/url", { url }); }
  refresh() { return this.#cmd("POST", "/refresh", {}); }
  url() { return this.#cmd("GET", "/url"); }
  /** Runs `script` (a function body) in the page with `args`; its return value comes back as JSON. */
  execute(script, ...args) { return this.#cmd("POST", "/execute/sync", { script, args }); }
  /** As execute, but the body calls arguments[arguments.length - 1](value) to answer. */
  executeAsync(script, ...args) { return this.#cmd("POST", "/execute/async", { script, args }); }
  setTimeouts(t) { return this.#cmd("POST", "/timeouts", t); }
  setWindowRect(rect) { return this.#cmd("POST", "/window/rect", rect); }
  /** A PNG of the viewport, as a Buffer. */
  async screenshot() { return Buffer.from(await this.#cmd("GET", "/screenshot"), "base64"); }
  delete() { return command(this.base, "DELETE", `/session/${this.id}`); }

  /** Polls `script` (returning a value) until `predicate(value)` holds; the last value, or an error after timeoutMs. */
  async until(script, predicate = Boolean, { timeoutMs = 30000, every = 100 } = {}) {
    const t0 = Date.now();
    for (;;) {
      const v = await this.execute(script);
      if (predicate(v)) return v;
      if (Date.now() - t0 > timeoutMs) throw new Error(`webdriver: timed out after ${timeoutMs} ms waiting for ${script} (last: ${JSON.stringify(v)})`);
      await sleep(every);
    }
  }
}

/** One WebDriver command; a W3C error answer becomes a thrown Error with its error code and message. */
async function command(base, method, path, body) {
  const res = await fetch(base + path, {
    method, headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json?.value?.error)
    throw Object.assign(new Error(`webdriver ${method} ${path}: ${json?.value?.error ?? res.status}: ${json?.value?.message ?? ""}`),
      { code: json?.value?.error });
  return json.value;
}

/**
 * Starts Xvfb and WebKitWebDriver (xvfb-run -a) and opens a MiniBrowser session. Returns {session, pid, stop}: pid
 * is xvfb-run's, the root of the processes it started (the benchmarks read their peak memory under it).
 * stop() deletes the session and ends the driver, Xvfb and xvfb-run by their PIDs; it is safe to call twice.
 */
export async function startWebKit({ args = ["--automation"], onOutput } = {}) {
  const port = await freePort();
  const child = spawn("xvfb-run", ["-a", WEBKIT_DRIVER, `--port=${port}`], { stdio: ["ignore", onOutput ? "pipe" : "ignore", "pipe"] });
  if (onOutput) child.stdout.on("data", (d) => onOutput(String(d)));
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const base = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (session) => {
    if (stopped) return;
    stopped = true;
    if (session) await session.delete().catch(() => {});
    // xvfb-run's children (Xvfb, the driver) and the driver's (MiniBrowser is the driver's child).
    const pids = [];
    const walk = (pid) => { for (const c of childrenOf(pid)) { walk(c); pids.push(c); } };
    walk(child.pid);
    for (const pid of [...pids, child.pid]) { try { process.kill(pid, "SIGTERM"); } catch { /* gone */ } }
    for (let i = 0; i < 50 && [...pids, child.pid].some(alive); i++) await sleep(100);
    for (const pid of [...pids, child.pid]) if (alive(pid)) { try { process.kill(pid, "SIGKILL"); } catch { /* gone */ } }
  };
  try {
    const t0 = Date.now();
    for (;;) {
      try {
        const s = await fetch(base + "/status").then((r) => r.json());
        if (s?.value?.ready !== false) break;
      } catch { /* not listening yet */ }
      if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited: ${stderr}`);
      if (Date.now() - t0 > 20000) throw new Error(`WebKitWebDriver did not answer in 20 s: ${stderr}`);
      await sleep(100);
    }
    const session = await Session.create(base, {
      alwaysMatch: { browserName: "MiniBrowser", "webkitgtk:browserOptions": { binary: MINIBROWSER, args } },
    });
    return { session, pid: child.pid, stop: () => stop(session) };
  } catch (e) {
    await stop(null);
    throw e;
  }
}
