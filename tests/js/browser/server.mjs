// server.mjs — the static HTTP server of the browser tests, on 127.0.0.1: the repository's web/, build/
// and models/ files and the test pages, plus model routes that misbehave on purpose. It records every
// request so a test can assert that a load did not touch the network.
import { createServer } from "node:http";
import { readFileSync, existsSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
  ".gguf": "application/octet-stream", ".json": "application/json", ".webmanifest": "application/manifest+json" };
const SERVED = ["web/", "build/", "models/", "tests/js/browser/", "demo/"];

/** Starts the server; `routes` maps a path to a handler (req, res) that replaces the file. */
export function startServer(root, routes = {}) {
  const log = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    log.push(path);
    if (routes[path]) return routes[path](req, res);
    const rel = normalize(path).replace(/^\/+/, "");
    const file = join(root, rel);
    if (!SERVED.some((d) => rel.startsWith(d)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": body.length,
      "cache-control": "no-store" });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    resolve({
      server, base, log,
      count: (p) => log.filter((x) => x === p).length,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
    });
  }));
}
