// core.test.mjs — the core suite (core.mjs) against the same handler on its three runtimes: workerd (the
// committed worker/config.capnp: the engine as a compiled wasm module, the models as Data modules), Node
// (worker/node.js) and Deno (worker/deno.js).
import { after, before, describe } from "node:test";
import { CORE_ENV, coreSuite } from "./core.mjs";
import { path, startDeno, startNode, startWorkerd } from "./harness.mjs";

const runtimes = {
  workerd: () => startWorkerd(path("worker/config.capnp"), { env: CORE_ENV }),
  node: () => startNode({ env: CORE_ENV }),
  deno: () => startDeno({ env: CORE_ENV }),
};

for (const [name, start] of Object.entries(runtimes)) {
  describe(name, () => {
    let server;
    before(async () => { server = await start(); });
    after(async () => {
      const r = await server?.stop();
      if (r && r.code !== 0 && r.signal !== "SIGTERM") console.error(`${name} exited with ${r.code ?? r.signal}: ${server.stderr.slice(-1000)}`);
    });
    coreSuite(() => server);
  });
}
