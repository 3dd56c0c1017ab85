// package.test.mjs — edgetag as a user gets it (make test-package, on Node 24): `npm pack` (its prepack builds the
// wasm), the tarball's contents and size, publint, then the tarball installed offline into fresh folders: its
// declarations under tsc --strict (tests/js/types' page, Node and Workers uses), and the README's install snippets
// run verbatim — Node 24 and 20, Deno, headless Chromium (a page importing the library from a CDN address, a Vite
// app under its dev server and its production build, an esbuild bundle; the main thread and the Web Worker each
// time), and workerd at an old and a current compatibility date with the Worker bundled by wrangler.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { contentType, run, runOk, serve, start } from "./processes.mjs";
import { snippet } from "./snippets.mjs";
import { startWorkers } from "./workerd.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const MANIFEST = JSON.parse(readFileSync(join(ROOT, "models/manifest.json"), "utf8"));
const bin = (name) => join(ROOT, "node_modules/.bin", name);
const NODE = process.execPath; // Node 24: the Makefile runs this file with NODE_LTS
const OTHER_NODE = process.env.EDGETAG_OTHER_NODE; // the machine's Node (20), when the Makefile names it
const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const CDN = `https://cdn.jsdelivr.net/npm/edgetag@${PKG.version}/`;
const LIMIT = 15e6;

// What the snippets print: the intent of "book a table…", the PII of the sentence, the weather intent.
const INTENT = "restaurant_reservation";
const PII = ["PERSON: Anna Kowalski", "PHONE_NUMBER: 555-867-5309"];

let tmp, tarball, packed;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), "edgetag-package-"));
  const out = await runOk("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: ROOT, timeout: 600000 });
  [packed] = JSON.parse(out);
  tarball = join(tmp, packed.filename);
});
after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

/** A fresh folder with the tarball installed (offline: it has no dependencies), and links to dev tools. */
async function app(name, links = []) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  await runOk("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", tarball], { cwd: dir });
  mkdirSync(join(dir, "node_modules/.bin"), { recursive: true });
  for (const [pkg, binary] of links) { // after npm install, which would prune them
    mkdirSync(dirname(join(dir, "node_modules", pkg)), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", pkg), join(dir, "node_modules", pkg));
    if (binary) symlinkSync(join(ROOT, "node_modules", pkg, binary), join(dir, "node_modules/.bin", pkg));
  }
  return dir;
}

const write = (dir, rel, text) => {
  mkdirSync(join(dir, rel, ".."), { recursive: true });
  writeFileSync(join(dir, rel), text);
};

test("npm pack: the library, both wasm builds, the packaged int8 models and their facts, LICENSE; no f32; under 15 MB; publint clean", async (t) => {
  const files = packed.files.map((f) => f.path);
  for (const f of ["web/edgetag.js", "web/edgetag.d.ts", "web/worker-main.js", "web/escalate/index.js", "build/edgetag.wasm",
    "build/edgetag-relaxed.wasm", "models/manifest.json", "models/README.md", "LICENSE", "NOTICE", "README.md", "package.json"])
    assert.ok(files.includes(f), `${f} is in the tarball`);
  assert.deepEqual(files.filter((f) => /\.gguf$/.test(f)).sort(),
    MANIFEST.models.filter((m) => m.package).map((m) => `models/${m.file}`).sort(), "the models the manifest says are packaged");
  assert.deepEqual(files.filter((f) => /^(src|tests|tools|bench|node_modules)\/|-f32\.gguf$|\.tgz$/.test(f)), []);
  t.diagnostic(`${packed.filename}: ${(packed.size / 1e6).toFixed(2)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${files.length} files`);
  assert.ok(packed.size < LIMIT && packed.unpackedSize < LIMIT, `${packed.size} / ${packed.unpackedSize} bytes`);
  // The README states the figures; they must be today's.
  const [, mbPacked, mbInstalled, count] = /([\d.]+) MB packed, ([\d.]+) MB installed, (\d+) files/.exec(README) ?? [];
  assert.deepEqual([Number(mbPacked), Number(mbInstalled), Number(count)],
    [Number((packed.size / 1e6).toFixed(1)), Number((packed.unpackedSize / 1e6).toFixed(1)), files.length], "README's package figures");
  const lint = await runOk(bin("publint"), ["run", tarball, "--strict", "--level", "suggestion"]);
  assert.match(lint, /All good!/, lint);
});

describe("Node and Deno", () => {
  let dir;
  before(async () => {
    dir = await app("node");
    write(dir, "main.js", snippet(README, "js", "node"));
  });

  test("the package's wasm builds are the ones prepack built", () => {
    for (const f of ["build/edgetag.wasm", "build/edgetag-relaxed.wasm"])
      assert.ok(readFileSync(join(dir, "node_modules/edgetag", f)).equals(readFileSync(join(ROOT, f))), f);
  });

  test("importing the package touches no fetch, Worker or Node built-in (workerd below has no import.meta.url)", async () => {
    const script = `
      const refuse = (what) => () => { throw new Error(what + " at import"); };
      globalThis.fetch = refuse("fetch"); globalThis.Worker = refuse("Worker");
      process.getBuiltinModule = refuse("a Node built-in");
      const edgetag = await import("edgetag");
      const names = Object.keys(edgetag).sort();
      console.log(JSON.stringify(names));`;
    const out = await runOk(NODE, ["--input-type=module", "-e", script], { cwd: dir });
    assert.ok(JSON.parse(out).includes("load"));
  });

  for (const [name, node] of [["Node 24", NODE], ["Node 20", OTHER_NODE]])
    test(`${name} runs the README's snippet`, { skip: !node && "EDGETAG_OTHER_NODE is not set" }, async () => {
      const out = await runOk(node, ["main.js"], { cwd: dir, timeout: 60000 });
      assert.match(out, new RegExp(INTENT));
      for (const p of PII) assert.ok(out.includes(p), out);
    });

  test("Deno runs the README's snippet with --allow-read", async () => {
    const out = await runOk(bin("deno"), ["run", "--quiet", "--no-prompt", "--allow-read", "main.js"],
      { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, timeout: 60000 });
    assert.match(out, new RegExp(INTENT));
    for (const p of PII) assert.ok(out.includes(p), out);
  });
});

test("TypeScript: the installed package's declarations under tsc --strict, for a page, Node and Workers", async () => {
  const dir = await app("types", [["@types/node"], ["@cloudflare/workers-types"]]);
  for (const config of ["browser", "node", "workers"]) {
    for (const f of ["tsconfig.json", "usage.ts"]) write(dir, `${config}/${f}`, readFileSync(join(ROOT, "tests/js/types", config, f), "utf8"));
    const r = await run(bin("tsc"), ["-p", join(dir, config)]);
    assert.equal(r.code, 0, `${config}: ${r.stdout}${r.stderr}`);
  }
});

describe("headless Chromium", () => {
  let browser;
  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`make setup\``);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });
  after(async () => { await browser?.close(); });

  /** Opens `url` in a fresh context and resolves the text of `selector` once the page wrote it. */
  async function textOf(url, selector, { route } = {}) {
    const context = await browser.newContext();
    const errors = [];
    try {
      if (route) await context.route(`${CDN}**`, route);
      const page = await context.newPage();
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      await page.goto(url);
      await page.waitForFunction((s) => document.querySelector(s)?.textContent, selector, { timeout: 60000 })
        .catch((e) => { throw new Error(`${url}: nothing in ${selector} (${errors.join("; ") || e.message})`); });
      return await page.textContent(selector);
    } finally {
      await context.close();
    }
  }

  const expectSnippetOutput = (text) => {
    const lines = text.split("\n");
    assert.equal(lines[0], INTENT, text);
    for (const p of PII) assert.ok(lines.includes(p), text);
  };

  test("a page imports the library from a CDN address: main thread and Web Worker (started through a blob: module)", async () => {
    const cdn = await app("cdn");
    const served = [];
    const route = (r) => {
      const rel = r.request().url().slice(CDN.length).split("?")[0];
      const file = join(cdn, "node_modules/edgetag", rel);
      served.push(rel);
      if (!existsSync(file)) return r.fulfill({ status: 404, body: "not found" });
      return r.fulfill({ status: 200, body: readFileSync(file), headers: { "content-type": contentType(file), "access-control-allow-origin": "*" } });
    };
    const page = join(tmp, "page");
    write(page, "index.html", snippet(README, "html", "page"));
    const server = await serve(page);
    try {
      expectSnippetOutput(await textOf(`${server.base}/`, "#out", { route }));
      for (const f of ["web/edgetag.js", "web/worker-main.js", "build/edgetag-relaxed.wasm", "models/intent-clinc.gguf", "models/pii-ner.gguf"])
        assert.ok(served.includes(f), `${f} came from the CDN address (${served.join(", ")})`);
    } finally {
      await server.close();
    }
  });

  describe("a Vite app, with no Vite configuration", () => {
    let dir;
    const viteJs = () => join(dir, "node_modules/vite/bin/vite.js");
    before(async () => {
      dir = await app("vite", [["vite", "bin/vite.js"]]);
      write(dir, "index.html", `<!doctype html>\n<meta charset="utf-8">\n<div id="app"></div>\n<script type="module" src="/src/main.js"></script>\n`);
      write(dir, "src/main.js", snippet(README, "js", "vite"));
    });

    test("under the dev server (its dependency pre-bundler included)", async () => {
      const vite = await start(NODE, [viteJs(), "--host", "127.0.0.1", "--port", "0", "--strictPort"],
        { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, ready: /Local:\s+(http:\/\/127\.0\.0\.1:\d+\/)/ });
      try {
        expectSnippetOutput(await textOf(vite.match[1], "#app"));
        assert.ok(existsSync(join(dir, "node_modules/.vite/deps/edgetag.js")), "Vite pre-bundled the library");
      } finally {
        await vite.stop();
      }
    });

    test("built for production: the worker, both .wasm builds and the models emitted; no warnings", async () => {
      const r = await run(NODE, [viteJs(), "build"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /externalized|warning/i);
      const assets = readdirSync(join(dir, "dist/assets"));
      for (const re of [/^worker-main-.*\.js$/, /^edgetag-.*\.wasm$/, /^edgetag-relaxed-.*\.wasm$/, /^intent-clinc-.*\.gguf$/])
        assert.ok(assets.some((a) => re.test(a)), `${re} in ${assets.join(", ")}`);
      const server = await serve(join(dir, "dist"));
      try {
        expectSnippetOutput(await textOf(`${server.base}/`, "#app"));
      } finally {
        await server.close();
      }
    });
  });

  test("an esbuild bundle, with the engine's files named as the README says", async () => {
    const dir = await app("esbuild", [["esbuild", "bin/esbuild"]]);
    write(dir, "src/main.js", snippet(README, "js", "esbuild"));
    await runOk("bash", ["-e", "-c", snippet(README, "sh", "esbuild")],
      { cwd: dir, env: { ...process.env, PATH: `${join(dir, "node_modules/.bin")}:${process.env.PATH}` } });
    write(dir, "dist/index.html", `<!doctype html>\n<meta charset="utf-8">\n<div id="app"></div>\n<script type="module" src="main.js"></script>\n`);
    const server = await serve(join(dir, "dist"));
    try {
      assert.equal(await textOf(`${server.base}/`, "#app"), `${INTENT}\nweather`);
    } finally {
      await server.close();
    }
  });
});

describe("workerd, the Worker bundled by wrangler", () => {
  let dir, modules;
  before(async () => {
    dir = await app("worker", [["esbuild", "bin/esbuild"]]);
    write(dir, "src/index.js", snippet(README, "js", "worker"));
    write(dir, "wrangler.toml", snippet(README, "toml", "wrangler"));
    await runOk(NODE, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], {
      cwd: dir, env: { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: join(dir, ".config"), NO_COLOR: "1" },
    });
    // wrangler's bundle first, then the modules it imports (the engine and the model, named as in its imports).
    modules = ["index.js", ...readdirSync(join(dir, "dist")).filter((f) => /\.(wasm|gguf)$/.test(f))]
      .map((name) => ({ name, file: `dist/${name}` }));
    assert.equal(modules.length, 3, readdirSync(join(dir, "dist")).join(", "));
    // A Worker that leaves wasmModule out: it must get an EdgetagError that says to pass it.
    write(dir, "bare/index.js", `import { EdgetagError, init } from "edgetag";
export default { async fetch() {
  try { await init(); return new Response("no error"); }
  catch (e) { return Response.json({ edgetag: e instanceof EdgetagError, code: e.code, message: e.message }); }
} };\n`);
    await runOk(join(dir, "node_modules/.bin/esbuild"), ["bare/index.js", "--bundle", "--format=esm", "--outfile=bare/out.js", "--log-level=warning"], { cwd: dir });
  });

  for (const date of ["2024-09-23", "2026-11-23"])
    test(`compatibility date ${date}: the README's Worker classifies over HTTP; without wasmModule, an EdgetagError says what to pass`, async () => {
      const bare = { modules: [{ name: "bare.js", file: "bare/out.js" }], date };
      const workers = { main: { modules, date }, bare };
      if (date >= "2026") workers.registry = { ...bare, flags: ["new_module_registry"] }; // import.meta.url is set there
      const wd = await startWorkers(dir, workers);
      try {
        const ask = (text) => fetch(`http://127.0.0.1:${wd.ports.main}/`, { method: "POST", body: JSON.stringify({ text }) }).then((r) => r.json());
        assert.equal((await ask("book a table for two at 7pm")).label, INTENT);
        assert.equal((await ask("what's the weather like in Paris tomorrow")).label, "weather");
        for (const name of Object.keys(workers).filter((n) => n !== "main")) {
          const e = await (await fetch(`http://127.0.0.1:${wd.ports[name]}/`)).json();
          assert.equal(e.edgetag, true, `${name}: ${JSON.stringify(e)}`);
          assert.match(e.message, /wasmModule/, name);
        }
      } finally {
        await wd.stop();
      }
    });
});
