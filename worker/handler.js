// handler.js — the service as one fetch(request, env, ctx) handler, the same on Cloudflare Workers,
// workerd, Deno and Node (the entry points only adapt their runtime to it).
//
// One request, in order: the isolate's service (configuration, log, counters, model registry: made on the
// first request, never at global scope — Workers give global scope 1 s) → CORS preflight → bearer auth →
// route (404) and method (405) → the endpoint (api.js) → CORS and request-id headers. Every failure is a
// JSON body {error: {code, message}}; nothing throws out of fetch(). The log line and the counters are
// written after the response, through ctx.waitUntil.
//
//   import { createHandler } from "./handler.js";
//   export default createHandler({ wasmModule, bundled: { "intent-clinc": bytes }, runtime: "workerd" });

import { ROUTES } from "./api.js";
import { ConfigError, readConfig } from "./config.js";
import { ServiceError, errorResponse, json, timingSafeEqual } from "./http.js";
import { createLogger } from "./log.js";
import { Registry } from "./models.js";
import { ServiceStats } from "./stats.js";

const ALLOW_HEADERS = "authorization, content-type";
const EXPOSE_HEADERS = "x-request-id, retry-after";
const PREFLIGHT_MAX_AGE = "86400";

/** The isolate's service, from the first request's env; a configuration error is kept and answered. */
function makeService(env, { wasmModule, bundled, defaultModels, runtime, now, captureFile }) {
  let config = null, configError = null;
  try {
    config = readConfig(env, Object.keys(bundled), defaultModels);
  } catch (e) {
    configError = e instanceof ConfigError ? e : new ConfigError([String(e?.message ?? e)]);
  }
  const settings = config ?? configError.partial ?? {};
  const log = createLogger({ level: settings.log ?? "info", now });
  const registry = config ? new Registry(config, { env, wasmModule, bundled, log, now, captureFile }) : null;
  if (configError) log.error("config_error", { message: configError.message });
  return {
    config, configError, log, registry, runtime, stats: new ServiceStats(now),
    authToken: settings.authToken ?? null, cors: settings.cors ?? null, statsFlushSeconds: settings.statsFlushSeconds ?? 60,
  };
}

/** The CORS headers for a request's Origin, or null when that origin may not call. */
function corsHeaders(service, origin) {
  const allowed = service.cors;
  if (!origin || !allowed) return null;
  if (allowed === "*") return { "access-control-allow-origin": "*", "access-control-expose-headers": EXPOSE_HEADERS };
  if (!allowed.includes(origin)) return null;
  return { "access-control-allow-origin": origin, "access-control-expose-headers": EXPOSE_HEADERS, vary: "Origin" };
}

/** An OPTIONS request: a CORS preflight (Access-Control-Request-Method) or a plain question about the path. */
function options(service, request, route) {
  const allow = `${route.method}, OPTIONS`;
  if (!request.headers.has("access-control-request-method")) return new Response(null, { status: 204, headers: { allow } });
  const cors = corsHeaders(service, request.headers.get("origin"));
  if (!cors)
    throw new ServiceError(403, "origin_not_allowed", service.cors
      ? "this origin may not call the service (EDGETAG_CORS_ORIGINS)" : "cross-origin calls are not enabled (EDGETAG_CORS_ORIGINS)");
  return new Response(null, {
    status: 204,
    headers: { ...cors, allow, "access-control-allow-methods": allow, "access-control-allow-headers": ALLOW_HEADERS,
      "access-control-max-age": PREFLIGHT_MAX_AGE },
  });
}

/** Bearer auth when EDGETAG_AUTH_TOKEN is set: 401 without the right token (compared in constant time). */
async function authorize(service, request) {
  if (!service.authToken) return;
  const header = request.headers.get("authorization") ?? "";
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const challenge = { "www-authenticate": 'Bearer realm="edgetag"' };
  if (!m) throw new ServiceError(401, "unauthorized", "this service needs an Authorization: Bearer <token> header", challenge);
  if (!(await timingSafeEqual(m[1], service.authToken)))
    throw new ServiceError(401, "unauthorized", "the bearer token is not valid", challenge);
}

/** Routes one request: the response, and what the log and counters should say about it. */
async function route(service, request, info) {
  const url = new URL(request.url);
  const r = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : null;
  if (r) info.route = r.name;
  if (request.method === "OPTIONS" && r) return options(service, request, r);
  await authorize(service, request);
  if (!r) throw new ServiceError(404, "not_found", `no such endpoint (the service has ${Object.keys(ROUTES).join(", ")})`);
  if (request.method !== r.method)
    throw new ServiceError(405, "method_not_allowed", `${url.pathname} takes ${r.method}`, { allow: `${r.method}, OPTIONS` });
  if (service.configError) {
    const { message, problems } = service.configError;
    if (r.name === "health")
      return json(503, { status: "unhealthy", runtime: service.runtime, error: { code: "config_error", message }, problems });
    throw new ServiceError(500, "config_error", message);
  }
  return r.run(service, request, info);
}

/** The answer to an error that is not a ServiceError: 500 with no detail (the log has its code). */
function internal() {
  return new ServiceError(500, "internal", "the service failed to answer this request; the log has the details");
}

/**
 * The handler: `{fetch(request, env, ctx)}`.
 * @param {{wasmModule?: WebAssembly.Module, bundled?: Record<string, ArrayBuffer | Uint8Array | (() => Promise<ArrayBuffer | Uint8Array>)>,
 *          defaultModels?: string[], runtime?: string, now?: () => number}} [options]
 *   wasmModule: the engine's .wasm imported as a module (required on Workers/workerd, which compile no
 *   code at run time); bundled: the models this entry point carries, by name; defaultModels: those served
 *   when EDGETAG_MODELS is unset (default: all bundled); runtime: reported by health; captureFile(path) →
 *   {read, write, remove} of a text file, for EDGETAG_CAPTURE's store "file" (the Node entry passes one).
 */
export function createHandler({ wasmModule, bundled = {}, defaultModels, runtime = "workerd", now = Date.now, captureFile } = {}) {
  let service = null;
  return {
    async fetch(request, env, ctx) {
      const t0 = now();
      // What the request learns for the log and counters; waitUntil for work after the answer (a release check).
      const info = { route: "other", waitUntil: (p) => ctx?.waitUntil?.(p.catch(() => {})) };
      let response, failure = null;
      try {
        service ??= makeService(env ?? {}, { wasmModule, bundled, defaultModels, runtime, now, captureFile });
        response = await route(service, request, info);
      } catch (e) {
        failure = e;
        response = errorResponse(e instanceof ServiceError ? e : internal());
      }
      try {
        return finish(service, request, response, { t0, info, failure, ctx });
      } catch {
        return new Response('{"error":{"code":"internal","message":"the service failed to answer this request"}}',
          { status: 500, headers: { "content-type": "application/json; charset=utf-8" } });
      }
    },
  };
}

/** Adds the request id and CORS headers, and leaves the log line and the counters to ctx.waitUntil. */
function finish(service, request, response, { t0, info, failure, ctx }) {
  const id = request.headers.get("cf-ray") ?? crypto.randomUUID();
  // The service's own responses have mutable headers: set them in place (re-wrapping the body in a new
  // Response would pipe it through a stream, which costs workerd ~1 ms on a 40 KB answer).
  const out = response;
  out.headers.set("x-request-id", id);
  const cors = service && corsHeaders(service, request.headers.get("origin"));
  if (cors && !out.headers.has("access-control-allow-origin")) for (const [k, v] of Object.entries(cors)) out.headers.set(k, v);
  if (!service) return out;
  const after = async () => {
    const ms = service.stats.now() - t0;
    const code = failure ? (failure instanceof ServiceError ? failure.code : "internal") : undefined;
    service.stats.record({ route: info.route, status: out.status, ms, texts: info.texts, code, escalated: info.escalated });
    const fields = { id, method: request.method, path: info.route === "other" ? undefined : new URL(request.url).pathname,
      status: out.status, ms, model: info.model, texts: info.texts, chars: info.chars, escalated: info.escalated,
      answered: info.answered, code };
    if (failure && !(failure instanceof ServiceError))
      service.log.error("request_failed", { ...fields, message: `${failure?.name ?? "Error"}: ${String(failure?.message ?? failure).slice(0, 300)}` });
    else service.log.info("request", fields);
    if (service.stats.flushDue(service.statsFlushSeconds)) {
      service.stats.markFlushed();
      service.log.info("stats", { stats: { ...service.stats.snapshot(), models: service.registry?.stats() ?? {} } });
    }
  };
  // A timer turn: the work runs once the response is on its way, not before.
  const work = new Promise((resolve) => setTimeout(resolve, 0)).then(after).catch(() => {});
  if (typeof ctx?.waitUntil === "function") ctx.waitUntil(work);
  return out;
}
