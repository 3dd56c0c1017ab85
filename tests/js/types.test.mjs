// types.test.mjs — the declarations (web/edgetag.d.ts, web/escalate/index.d.ts and the wasm and model module
// types) type-check a realistic use and reject misuse under `tsc --strict` in three configurations — a page (DOM),
// Node (`lib: ["es2022"]` and @types/node, no DOM) and Cloudflare Workers (@cloudflare/workers-types, no DOM) —
// each importing "edgetag" through this package's own exports map; and under `deno check`, which finds them
// through web/edgetag.js's @ts-self-types comment.
import assert from "node:assert/strict";
import test from "node:test";

import { cli, path } from "./helpers.mjs";

for (const config of ["browser", "node", "workers"])
  test(`tsc --strict accepts tests/js/types/${config}/usage.ts (${config} lib)`, async () => {
    const r = await cli(path("node_modules/.bin/tsc"), ["-p", path(`tests/js/types/${config}`)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

test("deno check reads the declarations through @ts-self-types", async () => {
  const r = await cli(path("node_modules/.bin/deno"), ["check", "--quiet", "tests/js/types/deno/usage.ts"],
    { cwd: path(""), env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
