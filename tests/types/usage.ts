// Compiled (never run) by tests/types.test.mjs with `tsc --noEmit`: the declarations must describe the
// loader the way a TypeScript user calls it, and reject misuse.
import { EdgetagError, init, load, relaxedSimdSupported, version, type Matrix, type ModelInfo } from "../../web/edgetag.js";

async function main(bytes: Uint8Array): Promise<void> {
  const engine = await init({ simd: relaxedSimdSupported() ? "relaxed" : "baseline" });
  const v: string = engine.version() + version;
  const model = await load(bytes, { simd: "auto" });
  const info: ModelInfo = model.info;
  const one: Matrix = model.logits([101, 7592, 102]);
  const many: Matrix[] = model.logits([[101, 102], new Int32Array([101, 7, 102])], { typeIds: [[0, 0], [0, 1, 1]] });
  const e: Float32Array = model.embed([101, 102], { pooling: "cls", normalize: true });
  const labels: readonly string[] = info.labels;
  const tok = model.tokenize("Hello, world!", { pair: "again", maxLength: Infinity });
  const spans: number = tok.offsets[1] - tok.offsets[0] + tok.typeIds[0] + tok.ids.length;
  model.logits(tok.ids, { typeIds: tok.typeIds });
  void spans;
  const first: number = one.data[0] + many[0].rows + e[0] + labels.length + (info.threshold ?? 0);
  try {
    model.hidden([1, 2, 3]);
  } catch (err) {
    if (err instanceof EdgetagError && err.code === "INPUT") console.log(err.message, v, first);
  }
  // @ts-expect-error: simd takes "auto" | "relaxed" | "baseline"
  await init({ simd: "avx2" });
  // @ts-expect-error: the info is read-only
  model.info.nLayer = 3;
  // @ts-expect-error: tokenize takes a string
  model.tokenize([1, 2]);
  // @ts-expect-error: pooling is "mean" or "cls"
  model.embed([1], { pooling: "max" });
  model.dispose();
}

void main;
