// cloud.mjs — the stand-in cloud: an OpenAI-compatible chat-completions endpoint on 127.0.0.1 that answers
// from simple rules (rules.mjs) instead of a language model, and says so in every answer. It lets the demo show
// escalation with no account and no network, and lets its tests see exactly what arrived.
//
//   import { startStandInCloud } from "./demo/server/cloud.mjs";
//   const cloud = await startStandInCloud({ port: 8471, onRequest: (r) => console.log(r.task, r.text) });
//   cloud.url;        // http://127.0.0.1:8471/v1/chat/completions
//   cloud.received;   // every request as it arrived: method, path, raw headers and body
//   await cloud.close();
//
// POST /v1/chat/completions reads what edgetag's OpenAI adapter sends (the task from response_format's JSON
// schema, the text from the user message) and answers a chat.completion whose message content is the JSON
// the schema asks for; beside the standard fields it adds "served_by": "stand-in rules" and "rationale" (which
// rule matched). Browsers call it from another port, so it answers CORS preflights. Any key is accepted; it
// is never logged.
import { createServer } from "node:http";
import { classify, extract } from "./rules.mjs";

export const CHAT_PATH = "/v1/chat/completions";
export const SERVED_BY = "stand-in rules";
const MAX_BODY = 1 << 20;

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, GET, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, accept",
  "access-control-max-age": "600",
};

/** The task, text and allowed labels of a chat-completions request, read as a real service would. */
function readRequest(json) {
  const schema = json?.response_format?.json_schema?.schema;
  const labels = schema?.properties?.label?.enum;
  const entityTypes = schema?.properties?.entities?.items?.properties?.label?.enum;
  const text = json?.messages?.findLast?.((m) => m?.role === "user")?.content;
  if (typeof text !== "string") return null;
  if (Array.isArray(labels)) return { task: "classify", text, labels };
  if (Array.isArray(entityTypes)) return { task: "extract", text, entityTypes };
  return null;
}

function send(res, status, body, headers = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, { ...CORS, "content-type": "application/json", "content-length": Buffer.byteLength(data), ...headers });
  res.end(data);
}

/**
 * Starts the stand-in. onRequest(record) is called per answered request with {task, text, rationale, hasKey}.
 * Resolves {base, url, received, close()}.
 */
export async function startStandInCloud({ port = 0, host = "127.0.0.1", onRequest } = {}) {
  const received = [];
  let seq = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      const path = new URL(req.url, "http://x").pathname;
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ method: req.method, path, rawHeaders: [...req.rawHeaders], body });
      if (req.method === "OPTIONS") return res.writeHead(204, CORS).end();
      if (req.method === "GET" && path === "/")
        return send(res, 200, { service: "edgetag stand-in cloud", served_by: SERVED_BY, endpoints: [CHAT_PATH],
          note: "answers from keyword rules, not from a language model" });
      if (path !== CHAT_PATH) return send(res, 404, { error: { message: `no ${path} here; POST ${CHAT_PATH}` } });
      if (req.method !== "POST") return send(res, 405, { error: { message: "POST only" } }, { allow: "POST, OPTIONS" });
      if (size > MAX_BODY) return send(res, 413, { error: { message: "request too large" } });
      let json;
      try {
        json = JSON.parse(body);
      } catch {
        return send(res, 400, { error: { message: "the body is not JSON" } });
      }
      const request = readRequest(json);
      if (!request) return send(res, 400, { error: { message: "expected a user message and a response_format JSON schema with a label or entities enum" } });
      const { answer, rationale } = request.task === "classify" ? classify(request.text, request.labels) : extract(request.text, request.entityTypes);
      onRequest?.({ task: request.task, text: request.text, rationale, hasKey: Boolean(req.headers.authorization) });
      send(res, 200, {
        id: `chatcmpl-standin-${++seq}`, object: "chat.completion", created: Math.floor(Date.now() / 1000),
        model: typeof json.model === "string" ? json.model : "stand-in-rules",
        served_by: SERVED_BY, rationale,
        choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify(answer) }, finish_reason: "stop" }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      });
    });
  });
  server.keepAliveTimeout = 2000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const base = `http://${host}:${server.address().port}`;
  return {
    base,
    url: base + CHAT_PATH,
    received,
    /** Everything received, as one string: to show that some text never arrived. */
    everything: () => received.map((r) => [r.method, r.path, ...r.rawHeaders, r.body].join("\n")).join("\n\n"),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}
