// results.mjs — bench/RESULTS.md's generated blocks: each benchmark script owns the text between its
// `<!-- NAME begin -->` and `<!-- NAME end -->` markers and replaces only that (appending it the first time),
// so hand-written sections and the other scripts' blocks stay as they are.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const FILE = new URL("RESULTS.md", import.meta.url);

/** Replaces (or appends) the block `name` (e.g. "bench/run.mjs node") of bench/RESULTS.md with `text`. */
export function writeResultsBlock(name, text) {
  const begin = `<!-- ${name} begin -->`, end = `<!-- ${name} end -->`;
  let md = existsSync(FILE) ? readFileSync(FILE, "utf8") : "# Benchmark results\n";
  const block = `${begin}\n${text}\n${end}`;
  const i = md.indexOf(begin), j = md.indexOf(end);
  md = i >= 0 && j > i ? md.slice(0, i) + block + md.slice(j + end.length) : md.replace(/\n*$/, "\n\n") + block + "\n";
  writeFileSync(FILE, md);
}
