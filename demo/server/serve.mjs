// serve.mjs — the demo's static server: the app shell from demo/, the library from web/, the engine's two
// .wasm builds, the three shipped int8 models and Workbox from node_modules, on 127.0.0.1, nothing else.
//
//   import { startDemoServer } from "./demo/server/serve.mjs";
//   const demo = await startDemoServer({ port: 8470, cloudUrl: "http://127.0.0.1:8471/v1/chat/completions" });
//   demo.base;       // http://127.0.0.1:8470
//   demo.requests;   // every request's method and path, in order
//   await demo.close();
//
// No build step: two answers are made at request time instead. /precache-manifest.js lists the files the
// service worker precaches, each with the SHA-256 of its bytes as its revision, so a changed file is fetched
// again and an unchanged one never is; /config.json tells the app where the stand-in cloud listens.
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DEMO = join(ROOT, "demo");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".json": "application/json", ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml", ".png": "image/png", ".wasm": "application/wasm", ".gguf": "application/octet-stream",
};

/** The app's own files: demo/'s top level and icons/, not server/ (Node code that no browser needs). */
const SHELL_EXTENSIONS = new Set([".html", ".css", ".js", ".webmanifest", ".svg", ".png"]);
export const MODELS = ["maint-ner", "pii-ner", "intent-clinc"];
const WORKBOX = ["core", "precaching", "routing", "strategies"];

/** Pages may talk to this origin, load wasm and run module workers; nothing inline, no other origin but the cloud. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src *; " +
  "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Every file under dir (relative paths with /), recursively. */
function walk(dir, rel = "") {
  const out = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else out.push(r);
  }
  return out;
}

/** The URL path → file table, made once per server (the files' list, not their bytes: those are read per request). */
function routes() {
  const table = new Map();
  for (const f of walk(DEMO)) {
    if (f.startsWith("server/") || !SHELL_EXTENSIONS.has(extname(f))) continue;
    table.set(`/${f}`, join(DEMO, f));
  }
  table.set("/", join(DEMO, "index.html"));
  for (const f of walk(join(ROOT, "web"))) if (f.endsWith(".js")) table.set(`/web/${f}`, join(ROOT, "web", f));
  for (const f of ["edgetag.wasm", "edgetag-relaxed.wasm"]) table.set(`/build/${f}`, join(ROOT, "build", f));
  for (const m of MODELS) table.set(`/models/${m}.gguf`, join(ROOT, "models", `${m}.gguf`));
  table.set("/vendor/workbox/workbox-sw.js", join(ROOT, "node_modules/workbox-sw/build/workbox-sw.js"));
  for (const w of WORKBOX)
    table.set(`/vendor/workbox/workbox-${w}.prod.js`, join(ROOT, `node_modules/workbox-${w}/build/workbox-${w}.prod.js`));
  return table;
}

/** What the service worker precaches: the shell, the library and both engine builds; models go to IndexedDB. */
function precacheList(table) {
  const skip = new Set(["/", "/sw.js"]);
  return [...table.keys()].filter((p) => !skip.has(p) && !p.startsWith("/models/") && !p.startsWith("/vendor/")).sort();
}

const revision = (bytes) => createHash("sha256").update(bytes).digest("hex").slice(0, 20);

/**
 * Starts the server. `cloudUrl` is the endpoint the app proposes until its user sets another one (empty: the
 * cloud is off by default). Resolves {base, requests, close()}.
 */
export async function startDemoServer({ port = 0, host = "127.0.0.1", cloudUrl = "", cloudModel = "stand-in-rules" } = {}) {
  const table = routes();
  for (const [path, file] of table)
    if (!statSync(file, { throwIfNoEntry: false })?.isFile())
      throw new Error(`demo: ${file.slice(ROOT.length)} is missing (for ${path}): run \`make setup wasm\``);
  const config = JSON.stringify({ cloudUrl, cloudModel }, null, 2) + "\n";
  const generated = {
    "/config.json": () => config,
    "/precache-manifest.js": () => {
      const entries = precacheList(table).map((p) => ({ url: p.slice(1), revision: revision(readFileSync(table.get(p))) }));
      entries.push({ url: "config.json", revision: revision(config) });
      return "// Made by demo/server/serve.mjs from the files it serves: the service worker's precache list.\n" +
        `self.FIELD_NOTES_PRECACHE = ${JSON.stringify(entries, null, 1)};\n`;
    },
  };
  const requests = [];
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      path = "";
    }
    requests.push({ method: req.method, path });
    const headers = { "cache-control": "no-cache", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...headers, allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    let body, type;
    if (generated[path]) {
      body = Buffer.from(generated[path]());
      type = TYPES[extname(path)];
    } else if (table.has(path)) { // only the listed paths: nothing else of the disk is reachable
      const file = table.get(path);
      body = readFileSync(file);
      type = TYPES[extname(file)] ?? "application/octet-stream";
      if (file.endsWith(".html")) headers["content-security-policy"] = CSP;
    } else {
      res.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, { ...headers, "content-type": type, "content-length": body.length });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const base = `http://${host}:${server.address().port}`;
  return {
    base,
    requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}
