// static.test.mjs — what keeps the deployment files honest as the code moves: worker/config.capnp lists every
// module of web/ and worker/ (workerd has no bundler: a module it lacks fails at start-up) and every
// variable; worker/ uses the library only through its public face, web/edgetag.js; wrangler.toml's
// sha256s are those of the shipped files; the README documents every variable.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { VARIABLES } from "../../worker/config.js";
import { SHIPPED, serviceModules } from "./capnp.mjs";
import { modelBytes, path, sha256 } from "./harness.mjs";

test("worker/config.capnp: bundled.js first, every module of web/ and worker/, the wasm, the models, every variable", () => {
  const capnp = readFileSync(path("worker/config.capnp"), "utf8");
  const names = [...capnp.matchAll(/\(name = "([^"]+)", (esModule|wasm|data) = embed "\.\.\/([^"]+)"\)/g)];
  for (const [, name, , file] of names) assert.equal(name, file, "a module's name is its path from the repository root");
  const modules = names.filter((m) => m[2] === "esModule").map((m) => m[1]);
  assert.equal(modules[0], "worker/bundled.js", "the first module is the main one");
  assert.deepEqual([...modules].sort(), serviceModules().sort());
  assert.deepEqual(names.filter((m) => m[2] !== "esModule").map((m) => m[1]),
    ["build/edgetag-relaxed.wasm", ...SHIPPED.map((n) => `models/${n}.gguf`)]);
  const bindings = [...capnp.matchAll(/\(name = "([A-Z_0-9]+)", fromEnvironment = "\1"\)/g)].map((m) => m[1]);
  assert.deepEqual(bindings.sort(), [...VARIABLES].sort());
});

test("worker/ uses web/ only through web/edgetag.js, and imports nothing but its own modules, the wasm and models", () => {
  for (const f of readdirSync(path("worker")).filter((n) => n.endsWith(".js"))) {
    const text = readFileSync(path(`worker/${f}`), "utf8");
    const specs = [...text.matchAll(/^\s*import\s+(?:source\s+)?[^"';]*?\s*from\s+["']([^"']+)["']/gm), ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)]
      .map((m) => m[1]);
    for (const s of specs) {
      const ok = /^\.\/[a-z]+\.js$/.test(s) || s === "../web/edgetag.js" || /^\.\.\/build\/edgetag(-relaxed)?\.wasm$/.test(s) ||
        /^\.\.\/models\/[a-z-]+\.gguf$/.test(s) || (/^node:/.test(s) && f === "node.js");
      assert.ok(ok, `worker/${f} imports ${s}`);
    }
  }
});

test("worker/wrangler.toml: the sha256 of each model is that of the shipped file", () => {
  const toml = readFileSync(path("worker/wrangler.toml"), "utf8");
  for (const m of SHIPPED) {
    const section = new RegExp(`\\[vars\\.EDGETAG_MODELS\\.${m}\\][^\\[]*?sha256 = "([0-9a-f]{64})"`).exec(toml);
    assert.ok(section, `wrangler.toml configures ${m}`);
    assert.equal(section[1], sha256(modelBytes(m)), `${m}: update wrangler.toml after changing models/${m}.gguf`);
  }
});

test("README: the Edge service section documents every variable", () => {
  const readme = readFileSync(path("README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Edge service"));
  assert.ok(readme.includes("## Edge service"), "README has an Edge service section");
  for (const v of VARIABLES) assert.ok(section.includes(`\`${v}\``), `README does not document ${v}`);
});
