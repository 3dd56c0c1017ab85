// wrangler.test.mjs — worker/wrangler.toml as a new user runs it (README "Edge service"), offline: the
// bundle builds (`wrangler deploy --dry-run`: the wasm as a compiled module, the models as Data modules),
// and `wrangler dev` serves all three models from R2 and KV seeded with `wrangler r2 object put` and
// `wrangler kv key put` (--local). wrangler needs Node >= 22 (make test-worker runs Node 24); its network
// calls are switched off (no Request.cf download, no update check, no metrics).
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { call, path, removeDir, scratchDir, sha256, modelBytes } from "./harness.mjs";

const WRANGLER = path("node_modules/wrangler/bin/wrangler.js");
const major = Number(process.versions.node.split(".")[0]);
const skip = major < 22 ? `wrangler needs Node >= 22 (this is ${process.versions.node}; make test-worker runs Node 24)` : false;
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1", CI: "1" };
const wrangler = (args, options = {}) => promisify(execFile)(process.execPath, [WRANGLER, ...args],
  { cwd: path("worker"), env: ENV, timeout: 120_000, maxBuffer: 1 << 24, ...options });

describe("worker/wrangler.toml", { skip }, () => {
  let dir;
  before(() => { dir = scratchDir("wrangler"); });
  after(() => dir && removeDir(dir));

  test("wrangler deploy --dry-run bundles bundled.js: the compiled wasm, three Data modules", async () => {
    const { stdout } = await wrangler(["deploy", "bundled.js", "--dry-run", "--outdir", `${dir}/dist`]);
    assert.match(stdout, /Total Upload/);
    const files = readdirSync(`${dir}/dist`);
    assert.ok(files.some((f) => f.endsWith("edgetag-relaxed.wasm")), files.join(", "));
    for (const m of ["intent-clinc", "maint-ner", "pii-ner"]) assert.ok(files.some((f) => f.endsWith(`${m}.gguf`)), m);
    assert.match(stdout, /env\.MODELS_BUCKET \(edgetag-models\)\s+R2 Bucket/);
  });

  test("wrangler dev serves the models from R2 and KV seeded with wrangler's own commands", { timeout: 180_000 }, async () => {
    const persist = ["--local", "--persist-to", `${dir}/state`];
    await wrangler(["r2", "object", "put", "edgetag-models/intent-clinc.gguf", "--file", "../models/intent-clinc.gguf", ...persist]);
    await wrangler(["r2", "object", "put", "edgetag-models/pii-ner.gguf", "--file", "../models/pii-ner.gguf", ...persist]);
    await wrangler(["kv", "key", "put", "maint-ner.gguf", "--path", "../models/maint-ner.gguf", "--binding", "MODELS_KV", ...persist]);
    // A secret, as `wrangler dev` reads them: from a .dev.vars / .env file.
    writeFileSync(`${dir}/secrets.env`, "EDGETAG_AUTH_TOKEN=wrangler-test\n");
    const dev = spawn(process.execPath, [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", "0", "--persist-to", `${dir}/state`,
      "--env-file", `${dir}/secrets.env`, "--show-interactive-dev-session=false"], { cwd: path("worker"), env: ENV, stdio: ["ignore", "pipe", "pipe"],
      detached: true }); // its own process group: wrangler and the workerd processes it starts stop together
    let out = "";
    dev.stdout.on("data", (d) => { out += d; });
    dev.stderr.on("data", (d) => { out += d; });
    const exited = new Promise((r) => dev.on("exit", r));
    try {
      const base = await new Promise((resolve, reject) => {
        const t = setInterval(() => {
          const m = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) clearInterval(t), resolve(m[1]);
        }, 50);
        exited.then(() => { clearInterval(t); reject(new Error(`wrangler dev exited: ${out.slice(-2000)}`)); });
      });
      const h = await call(base, "/v1/health", { token: "wrangler-test" });
      assert.equal(h.status, 200, h.text);
      assert.deepEqual(h.body.models.map((m) => [m.name, m.source, m.sha256]),
        [["intent-clinc", "r2", sha256(modelBytes("intent-clinc"))], ["maint-ner", "kv", sha256(modelBytes("maint-ner"))], ["pii-ner", "r2", sha256(modelBytes("pii-ner"))]]);
      const c = await call(base, "/v1/classify", { token: "wrangler-test", body: { model: "intent-clinc", text: "book a table for two at 7pm" } });
      assert.equal(c.body.result.label, "restaurant_reservation");
      assert.equal((await call(base, "/v1/health")).status, 401, "the secret from the env file protects it");
    } finally {
      const group = (signal) => { try { process.kill(-dev.pid, signal); } catch { /* gone */ } };
      group("SIGTERM");
      const timer = setTimeout(() => group("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
  });
});
