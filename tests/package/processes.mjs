// processes.mjs — what the package test needs of child processes and servers: run a command to its end, start
// a server and wait for the line that says where it listens, serve a folder over HTTP on 127.0.0.1. Every
// process and server is stopped by its owner (the test's finally/after), never left behind.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";

/** Runs a command; resolves {code, stdout, stderr} whatever its exit status (killed after `timeout` ms). */
export function run(command, args, { cwd, env, timeout = 120000 } = {}) {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: env ?? process.env, timeout, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : error.signal ?? -1) : 0, stdout, stderr });
    });
  });
}

/** Runs a command and fails with its output unless it exits 0; resolves its stdout. */
export async function runOk(command, args, options) {
  const r = await run(command, args, options);
  if (r.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Starts a long-running command and resolves once `ready` (a RegExp) matches its stdout or stderr:
 * {match, output(), stop()}. Rejects (and kills it) when it exits first or after `timeout` ms.
 */
export function start(command, args, { cwd, env, ready, timeout = 60000 } = {}) {
  const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5000).unref();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error(`${command} did not get ready in ${timeout} ms:\n${text}`)); }, timeout);
    const onData = (chunk) => {
      text += chunk;
      const match = ready.exec(text.replace(/\x1b\[[0-9;]*m/g, ""));
      if (match) { clearTimeout(timer); resolve({ match, output: () => text, stop }); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`${command} exited (${code}) before it was ready:\n${text}`)); });
  });
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
  ".json": "application/json", ".gguf": "application/octet-stream", ".md": "text/markdown", ".ts": "text/plain" };

/** The content type of a file, as a static host or a CDN sends it. */
export function contentType(file) {
  return TYPES[extname(file)] ?? "application/octet-stream";
}

/** Serves `dir` on 127.0.0.1 (a random port): {base, close()}. */
export function serve(dir) {
  const server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
    let file = join(dir, rel);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (rel.startsWith("..") || !existsSync(file)) return res.writeHead(404).end("not found");
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": contentType(file), "content-length": body.length, "cache-control": "no-store" }).end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    base: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}
