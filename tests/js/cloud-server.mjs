// cloud-server.mjs — a scripted stand-in for the cloud model, for tests/escalate.test.mjs.
//
// A real HTTP server on 127.0.0.1 (random port) that speaks both escalation protocols:
//   POST /v1/chat/completions   OpenAI-compatible: the task and label set come from response_format's JSON
//                               schema, the text from the user message; the answer goes back as
//                               choices[0].message.content (a JSON string).
//   POST anything else          the plain JSON protocol: {task, text, labels | entityTypes} → the answer.
// It records every request (method, url, headers, raw headers, body) and measures the requests in flight.
//
//   const cloud = await startCloudServer({ answer: ({ task, text, labels }) => ({ label: labels[0], score: 0.9 }) });
//   cloud.script({ reply: "status", status: 429, retryAfter: "0.2" }, { reply: "ok" });  // the next two requests
//   … cloud.requests, cloud.maxInFlight …
//   await cloud.close();
//
// Replies (one step per request, in order; when the script runs out, `fallback`, by default {reply: "ok"}):
//   ok          the answer function's answer (or step.answer(request)), after step.delayMs (default 0)
//   slow        the same after step.delayMs (default 10 s): for timeouts and aborts
//   status      HTTP step.status (default 500), with Retry-After: step.retryAfter when given, and step.headers
//   reset       destroys the socket without answering
//   truncated   a correct answer's body cut in half (a complete HTTP response whose JSON is cut)
//   malformed   200 with a body (or, OpenAI, a message content) that is not JSON
//   wrong_label a correct answer whose label (or every entity's label) is not in the label set
//   wrong_span  a correct answer whose entities' offsets and text do not match the text
import { createServer } from "node:http";

const CHAT_PATH = "/v1/chat/completions";

/** The task, text and label set of a request, read the way a real service would read it. */
function parseRequest(protocol, json) {
  if (protocol === "openai") {
    const schema = json?.response_format?.json_schema?.schema;
    const user = json?.messages?.find((m) => m.role === "user");
    const labels = schema?.properties?.label?.enum;
    const entityTypes = schema?.properties?.entities?.items?.properties?.label?.enum;
    return { task: labels ? "classify" : "extract", text: user?.content, labels, entityTypes };
  }
  return { task: json?.task, text: json?.text, labels: json?.labels, entityTypes: json?.entityTypes };
}

/** Default answers: the first label, or no entities. */
function defaultAnswer({ task, labels }) {
  return task === "classify" ? { label: labels[0], score: 0.99 } : { entities: [] };
}

function spoil(step, answer, request) {
  if (step.reply === "wrong_label") {
    if (answer.entities) return { entities: answer.entities.map((e) => ({ ...e, label: "NOT_A_TYPE" })) };
    return { ...answer, label: "not_a_label" };
  }
  if (step.reply === "wrong_span") {
    const entities = answer.entities?.length ? answer.entities : [{ label: request.entityTypes?.[0], start: 0, end: 1, text: "" }];
    return { entities: entities.map((e) => ({ ...e, start: e.start + 1, end: e.end + 3, text: "\u0000nowhere\u0000" })) };
  }
  return answer;
}

/**
 * Starts the server. options.answer(request) → the answer object ({label, score?} or {entities}); it gets
 * {protocol, task, text, labels, entityTypes, headers, body}.
 */
export async function startCloudServer({ answer = defaultAnswer, fallback = { reply: "ok" } } = {}) {
  const steps = [];
  const timers = new Set();
  const state = {
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    fallback,
  };

  const later = (ms, fn) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const server = createServer((req, res) => {
    const chunks = [];
    const t0 = performance.now();
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    const record = {
      seq: state.requests.length, method: req.method, url: req.url, headers: { ...req.headers },
      rawHeaders: [...req.rawHeaders], body: "", json: undefined, receivedAt: t0, protocol: null,
      task: null, text: null, reply: null, status: null, aborted: false, endedAt: null,
    };
    state.requests.push(record);
    let done = false, timer = null;
    const finish = (aborted) => {
      if (done) return;
      done = true;
      record.aborted = aborted;
      record.endedAt = performance.now();
      state.inFlight--;
      if (timer) clearTimeout(timer), timers.delete(timer);
    };
    res.on("finish", () => finish(false));
    res.on("close", () => finish(!res.writableFinished));

    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      record.body = Buffer.concat(chunks).toString("utf8");
      try {
        record.json = JSON.parse(record.body);
      } catch {
        record.json = undefined;
      }
      record.protocol = req.url.startsWith(CHAT_PATH) ? "openai" : "json";
      const parsed = parseRequest(record.protocol, record.json);
      Object.assign(record, { task: parsed.task, text: parsed.text });
      const step = steps.length ? steps.shift() : state.fallback;
      record.reply = step.reply;

      const send = (status, body, headers = {}) => {
        if (done) return;
        record.status = status;
        res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
        res.end(body);
      };
      const wrap = (content) => record.protocol === "openai"
        ? JSON.stringify({
          id: `chatcmpl-${record.seq}`, object: "chat.completion", model: record.json?.model ?? "test",
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        })
        : content;
      const answerBody = () => {
        const request = { protocol: record.protocol, ...parsed, headers: record.headers, body: record.json };
        return JSON.stringify(spoil(step, (step.answer ?? answer)(request), request));
      };

      const act = () => {
        switch (step.reply) {
          case "ok": case "slow": case "wrong_label": case "wrong_span":
            return send(200, wrap(answerBody()));
          case "status":
            return send(step.status ?? 500, JSON.stringify({ error: { message: "scripted failure" } }),
              { ...(step.retryAfter !== undefined && { "retry-after": String(step.retryAfter) }), ...step.headers });
          case "reset":
            done = true, state.inFlight--, record.endedAt = performance.now(), record.status = "reset";
            return req.socket.destroy();
          case "truncated": {
            const full = wrap(answerBody());
            return send(200, full.slice(0, Math.floor(full.length / 2)));
          }
          case "malformed":
            return send(200, record.protocol === "openai" ? wrap("{label: oops") : "{label: oops");
          default:
            throw new Error(`cloud-server: unknown reply ${step.reply}`);
        }
      };
      const delay = step.delayMs ?? (step.reply === "slow" ? 10_000 : 0);
      if (delay > 0) {
        timer = later(delay, act);
      } else act();
    });
  });
  server.keepAliveTimeout = 1000;

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;

  return {
    /** http://127.0.0.1:<port> */
    base,
    /** The OpenAI-compatible endpoint's full URL. */
    openaiUrl: base + CHAT_PATH,
    /** The plain JSON endpoint's URL. */
    jsonUrl: base + "/escalate",
    get requests() { return state.requests; },
    get inFlight() { return state.inFlight; },
    get maxInFlight() { return state.maxInFlight; },
    /** Queues replies for the next requests, in order. */
    script(...more) { steps.push(...more); },
    /** The reply once the script has run out. */
    setFallback(step) { state.fallback = step; },
    /** Forgets requests, the script and the in-flight peak (between cases). */
    reset() {
      steps.length = 0;
      state.requests = [];
      state.maxInFlight = state.inFlight;
      state.fallback = fallback;
    },
    /** Everything received, as one string: to prove that some text never arrived. */
    everything() {
      return state.requests.map((r) => [r.method, r.url, ...r.rawHeaders, r.body].join("\n")).join("\n\n");
    },
    /** Resolves when predicate() holds, polling every 5 ms; rejects after timeoutMs. */
    async until(predicate, timeoutMs = 2000) {
      const t0 = performance.now();
      while (!predicate()) {
        if (performance.now() - t0 > timeoutMs) throw new Error("cloud-server: condition not met in time");
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    /** Stops the server: pending replies are dropped and every connection is closed. */
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
