// types.test.mjs — web/edgetag.d.ts type-checks a realistic use and rejects misuse (tsc --noEmit).
import assert from "node:assert/strict";
import test from "node:test";

import { cli, path } from "./helpers.mjs";

test("tsc --noEmit accepts tests/js/types/usage.ts against web/edgetag.d.ts", async () => {
  const r = await cli(path("node_modules/.bin/tsc"), ["-p", path("tests/js/types")]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
