// admin-worker.js — a test-only worker bound to the same local R2 bucket and KV namespace as the service
// (tests/worker/capnp.mjs), so tests seed them through the real bindings: PUT /r2/<key>, PUT /kv/<key>
// (the body is the value), DELETE /r2/<key>, DELETE /kv/<key>. Answers 204, or the binding's error as 500.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const m = /^\/(r2|kv)\/(.+)$/.exec(url.pathname);
    if (!m) return new Response("PUT or DELETE /r2/<key> or /kv/<key>", { status: 404 });
    const [, store, key] = [m[0], m[1], decodeURIComponent(m[2])];
    const target = store === "r2" ? env.MODELS_BUCKET : env.MODELS_KV;
    try {
      if (request.method === "PUT") await target.put(key, await request.arrayBuffer());
      else if (request.method === "DELETE") await target.delete(key);
      else return new Response("PUT or DELETE", { status: 405 });
    } catch (e) {
      return new Response(String(e?.message ?? e), { status: 500 });
    }
    return new Response(null, { status: 204 });
  },
};
