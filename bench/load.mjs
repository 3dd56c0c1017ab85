// load.mjs — a small closed-loop load generator for bench/worker.mjs: `clients` connections (kept alive),
// each sending its next request as soon as the previous answer is read, for `seconds`. Latency is measured
// per request from writing it to reading the whole answer; it is kept per request kind. The client runs on
// the same machine (loopback), so it shares the CPU with the server: figures are for the pair.
import http from "node:http";

/** p-quantile (0..1) of sorted numbers. */
export function quantile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** One request: {status, ms, bytes}. */
function send(agent, base, { method, path, body, headers }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const payload = body === undefined ? undefined : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    const req = http.request(`${base}${path}`, {
      method, agent, headers: { ...headers, ...(payload && { "content-type": "application/json", "content-length": payload.length }) },
    }, (res) => {
      let bytes = 0;
      res.on("data", (d) => { bytes += d.length; });
      res.on("end", () => resolve({ status: res.statusCode, ms: performance.now() - t0, bytes }));
      res.on("error", () => resolve({ status: 0, ms: performance.now() - t0, bytes }));
    });
    req.on("error", () => resolve({ status: 0, ms: performance.now() - t0, bytes: 0 }));
    req.end(payload);
  });
}

/**
 * Runs `kinds` ({name: {method, path, body, headers}}) round-robin from each client for `seconds`:
 * {seconds, requests, errors, rps, byKind: {name: {n, errors, rps, p50, p90, p99, max, bytes}}}.
 * An answer other than 200 counts as an error.
 */
export async function runLoad(base, kinds, { clients = 16, seconds = 30 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const names = Object.keys(kinds);
  const lat = Object.fromEntries(names.map((n) => [n, []]));
  const errs = Object.fromEntries(names.map((n) => [n, 0]));
  const bytes = Object.fromEntries(names.map((n) => [n, 0]));
  const t0 = performance.now(), end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = c; performance.now() < end; i++) {
      const name = names[i % names.length];
      const r = await send(agent, base, kinds[name]);
      lat[name].push(r.ms);
      bytes[name] += r.bytes;
      if (r.status !== 200) errs[name]++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  const byKind = {};
  let requests = 0, errors = 0;
  for (const n of names) {
    const s = lat[n].sort((a, b) => a - b);
    requests += s.length;
    errors += errs[n];
    byKind[n] = { n: s.length, errors: errs[n], rps: s.length / elapsed, p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99),
      max: s.at(-1) ?? null, bytes: s.length ? bytes[n] / s.length : 0, latencies: s };
  }
  return { seconds: elapsed, clients, requests, errors, rps: requests / elapsed, byKind };
}

/** Several runs of one kind as one: requests over the summed time, quantiles over every latency. */
export function mergeLoads(runs, kind) {
  const s = runs.flatMap((r) => r.byKind[kind].latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((t, r) => t + r.seconds, 0), errors = runs.reduce((t, r) => t + r.errors, 0);
  return { seconds, clients: runs[0].clients, requests: s.length, errors, rps: s.length / seconds,
    byKind: { [kind]: { n: s.length, errors, rps: s.length / seconds, p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), max: s.at(-1) ?? null } } };
}

/** One request, timed (for first-request latency). */
export async function once(base, kind) {
  const agent = new http.Agent({ keepAlive: false });
  const r = await send(agent, base, kind);
  agent.destroy();
  return r;
}
