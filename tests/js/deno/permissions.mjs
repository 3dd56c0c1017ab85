// permissions.mjs — run by tests/js/deno.test.mjs under Deno with read access to build/ only (the engine) and no
// network: each refused read or fetch of a model must come back as an EdgetagError that names the flag to add.
// Prints one JSON line.
import { EdgetagError, load } from "../../../web/edgetag.js";

const [modelUrl, httpUrl] = Deno.args;
const out = {};
for (const [name, source] of [["file", modelUrl], ["http", httpUrl], ["path", "models/reference-tiny.gguf"]]) {
  try {
    await load(source, { cache: "none" });
    out[name] = "loaded";
  } catch (e) {
    out[name] = { edgetag: e instanceof EdgetagError, code: e.code, message: e.message, cause: e.cause?.name ?? null };
  }
}
console.log(JSON.stringify(out));
