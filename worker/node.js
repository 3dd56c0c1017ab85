// node.js — the service on Node's http module (Node >= 20), around the same fetch handler as Workers.
//
//   node worker/node.js                      # 127.0.0.1:8787; EDGETAG_* from the environment
//   EDGETAG_PORT=0 EDGETAG_HOST=0.0.0.0 node worker/node.js
//
// The library finds and compiles the engine's .wasm itself (Node compiles WebAssembly at run time); the
// "bundled" models are the files of EDGETAG_MODEL_DIR (default: the repository's models/), read when first
// used. It prints one JSON line {"event":"listen","port":…} once it listens, and stops on SIGTERM/SIGINT
// after the requests and waitUntil work under way.
import { createServer } from "node:http";
import { readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createHandler } from "./handler.js";

const modelDir = process.env.EDGETAG_MODEL_DIR ?? fileURLToPath(new URL("../models/", import.meta.url));
const bundled = {};
for (const f of await readdir(modelDir).catch(() => []))
  if (f.endsWith(".gguf")) bundled[f.slice(0, -5)] = () => readFile(`${modelDir}/${f}`);

/** Served when EDGETAG_MODELS is unset: the shipped int8 models, as worker/bundled.js bundles them. */
const SHIPPED = ["intent-clinc", "maint-ner", "pii-ner"];

/** EDGETAG_CAPTURE's store "file": the log read and written whole; a write goes to a temporary file first. */
function captureFile(path) {
  return {
    read: () => readFile(path, "utf8").catch((e) => { if (e.code === "ENOENT") return null; throw e; }),
    async write(text) {
      await writeFile(path + ".tmp", text, { mode: 0o600 });
      await rename(path + ".tmp", path); // a crash leaves the old log, never half of one
    },
    remove: () => rm(path, { force: true }),
  };
}

const handler = createHandler({ bundled, defaultModels: SHIPPED, runtime: `node ${process.versions.node}`, captureFile });
const pending = new Set();
const ctx = {
  waitUntil(promise) {
    const p = Promise.resolve(promise).catch(() => {}).finally(() => pending.delete(p));
    pending.add(p);
  },
  passThroughOnException() {},
};

/** Node's request as a fetch Request (the body streamed, not buffered). */
function toRequest(req) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(`http://${req.headers.host ?? "localhost"}${req.url}`, {
    method: req.method, headers, ...(hasBody && { body: Readable.toWeb(req), duplex: "half" }),
  });
}

const server = createServer(async (req, res) => {
  let response;
  try {
    response = await handler.fetch(toRequest(req), process.env, ctx);
  } catch {
    response = Response.json({ error: { code: "internal", message: "the request could not be read" } }, { status: 500 });
  }
  res.on("error", () => {}); // a client that went away: nothing more to send
  res.writeHead(response.status, [...response.headers].flat());
  try {
    if (response.body) for await (const chunk of response.body) if (!res.destroyed) res.write(chunk);
  } finally {
    res.end();
  }
});
server.keepAliveTimeout = 5000;

const host = process.env.EDGETAG_HOST ?? "127.0.0.1";
server.listen(Number(process.env.EDGETAG_PORT ?? 8787), host, () =>
  console.log(JSON.stringify({ event: "listen", runtime: "node", host, port: server.address().port })));

for (const signal of ["SIGTERM", "SIGINT"])
  process.once(signal, () => {
    server.close(async () => {
      await Promise.all(pending);
      process.exit(0);
    });
    server.closeIdleConnections();
  });
