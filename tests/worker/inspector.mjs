// inspector.mjs — the JS heap of a workerd isolate, through its DevTools inspector (workerd
// --inspector-addr): Runtime.getHeapUsage's usedSize (objects) and backingStorageSize (ArrayBuffers'
// backing stores, Data modules' included; wasm memory is not counted there, so callers add its
// byteLength). workerd reports no memory to the worker itself (performance.memory is undefined,
// process.memoryUsage() answers zeros), and enforces no limit locally: this is how the 128 MB is measured.
// Close the connection before stopping workerd (an open inspector socket blocks SIGTERM).
import { readFileSync } from "node:fs";

/** Connects to the first isolate of a workerd inspector on `port`: {heap(), close()}. */
export async function connectInspector(port) {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  if (!list.length) throw new Error("the inspector lists no isolate");
  const ws = new WebSocket(list[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("cannot open the inspector's websocket"));
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  };
  const send = (method, params = {}, timeoutMs = 5000) => new Promise((resolve, reject) => {
    const i = ++id;
    const timer = setTimeout(() => pending.delete(i) && reject(new Error(`${method}: no answer in ${timeoutMs} ms`)), timeoutMs);
    pending.set(i, (m) => {
      clearTimeout(timer);
      if (m.error) reject(new Error(`${method}: ${m.error.message}`));
      else resolve(m.result);
    });
    ws.send(JSON.stringify({ id: i, method, params }));
  });
  return {
    /** {usedSize, totalSize, backingStorageSize, embedderHeapUsedSize} in bytes. */
    heap: () => send("Runtime.getHeapUsage"),
    close: () => new Promise((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.onclose = () => resolve();
      ws.close();
    }),
  };
}

/** A process's resident set and its peak, from /proc (bytes). */
export function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}
