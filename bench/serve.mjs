// serve.mjs — the static file server the browser benchmarks load their page from (bench/run.mjs, bench/e2e.mjs):
// files of the repository under a few path prefixes, on 127.0.0.1 and a free port, never cached. Not a command.
//
//   import { serve } from "./serve.mjs";
//   const server = await serve(["bench/", "web/", "build/"]);   // an http.Server, listening
//   const url = `http://127.0.0.1:${server.address().port}/bench/page.html`;
//   server.close();
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const TYPES = { ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
  ".json": "application/json" };

/** Serves the files under `prefixes` (paths relative to the repository, ending in "/"); anything else is a 404. */
export function serve(prefixes) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
    const file = join(ROOT, path);
    if (!prefixes.some((p) => path.startsWith(p)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": body.length,
      "cache-control": "no-store" });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
