// procs.mjs — peak memory (VmHWM) of a browser's process tree, from /proc (Linux), for the browser benchmarks'
// reports (bench/run.mjs: Chromium and WebKitGTK). Not a command.
//
//   const tree = processTree((p) => p.pid === rootPid);     // the roots and every descendant
//   tree.map((p) => `${p.comm} ${p.hwm} bytes`);
import { readdirSync, readFileSync } from "node:fs";

/** Every process readable now: pid, ppid, peak RSS in bytes (VmHWM), command line (NUL-separated), comm. */
export function processes() {
  const procs = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = readFileSync(`/proc/${d}/status`, "utf8");
      procs.push({
        pid: Number(d), ppid: Number(/PPid:\s+(\d+)/.exec(status)[1]), hwm: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024,
        cmd: readFileSync(`/proc/${d}/cmdline`, "utf8"), comm: /Name:\s+(\S+)/.exec(status)?.[1] ?? "",
      });
    } catch { /* gone meanwhile */ }
  }
  return procs;
}

/** The processes for which isRoot(p) holds and all their descendants. */
export function processTree(isRoot, procs = processes()) {
  const tree = new Set(procs.filter(isRoot).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!tree.has(p.pid) && tree.has(p.ppid)) tree.add(p.pid), grew = true;
  }
  return procs.filter((p) => tree.has(p.pid));
}
