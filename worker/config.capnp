# config.capnp — the service on a local workerd (npm `workerd`), as Cloudflare runs it: the same modules, the
# engine's wasm embedded as a compiled module, the three shipped int8 models as Data modules.
#
#   node_modules/.bin/workerd serve worker/config.capnp                       # http://127.0.0.1:8787
#   node_modules/.bin/workerd serve worker/config.capnp --socket-addr http=127.0.0.1:9000
#   EDGETAG_AUTH_TOKEN=s3cret EDGETAG_CORS_ORIGINS='*' node_modules/.bin/workerd serve worker/config.capnp
#
# Every EDGETAG_* variable (worker/config.js, README "Edge service") is read from workerd's own
# environment; unset, the service serves intent-clinc, maint-ner and pii-ner from the bundle. R2 and KV
# sources need bindings: use `wrangler dev` (wrangler.toml) for those, or see tests/worker/capnp.mjs, which
# adds workerd's built-in local R2 and KV (`--experimental`). Module names are paths from the repository
# root, so the modules' relative imports (../web/edgetag.js, ../build/…) resolve as they do on disk; every
# module of web/ and worker/ is listed (tests/worker/static.test.mjs checks it).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .edgetag),
    # Outbound fetches (escalation endpoints, model URLs): public addresses, and local ones for development.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
  logging = (structuredLogging = false),
);

const edgetag :Workerd.Worker = (
  modules = [
    (name = "worker/bundled.js", esModule = embed "../worker/bundled.js"),
    (name = "worker/index.js", esModule = embed "../worker/index.js"),
    (name = "worker/handler.js", esModule = embed "../worker/handler.js"),
    (name = "worker/api.js", esModule = embed "../worker/api.js"),
    (name = "worker/capture.js", esModule = embed "../worker/capture.js"),
    (name = "worker/config.js", esModule = embed "../worker/config.js"),
    (name = "worker/escalation.js", esModule = embed "../worker/escalation.js"),
    (name = "worker/http.js", esModule = embed "../worker/http.js"),
    (name = "worker/log.js", esModule = embed "../worker/log.js"),
    (name = "worker/models.js", esModule = embed "../worker/models.js"),
    (name = "worker/release.js", esModule = embed "../worker/release.js"),
    (name = "worker/sources.js", esModule = embed "../worker/sources.js"),
    (name = "worker/stats.js", esModule = embed "../worker/stats.js"),
    (name = "web/abi.js", esModule = embed "../web/abi.js"),
    (name = "web/abort.js", esModule = embed "../web/abort.js"),
    (name = "web/cache.js", esModule = embed "../web/cache.js"),
    (name = "web/capture/consent.js", esModule = embed "../web/capture/consent.js"),
    (name = "web/capture/index.js", esModule = embed "../web/capture/index.js"),
    (name = "web/capture/record.js", esModule = embed "../web/capture/record.js"),
    (name = "web/capture/stores.js", esModule = embed "../web/capture/stores.js"),
    (name = "web/edgetag.js", esModule = embed "../web/edgetag.js"),
    (name = "web/engine.js", esModule = embed "../web/engine.js"),
    (name = "web/errors.js", esModule = embed "../web/errors.js"),
    (name = "web/escalate/adapters.js", esModule = embed "../web/escalate/adapters.js"),
    (name = "web/escalate/index.js", esModule = embed "../web/escalate/index.js"),
    (name = "web/escalate/policy.js", esModule = embed "../web/escalate/policy.js"),
    (name = "web/escalate/resilience.js", esModule = embed "../web/escalate/resilience.js"),
    (name = "web/escalate/stats.js", esModule = embed "../web/escalate/stats.js"),
    (name = "web/escalate/tagger.js", esModule = embed "../web/escalate/tagger.js"),
    (name = "web/load.js", esModule = embed "../web/load.js"),
    (name = "web/model.js", esModule = embed "../web/model.js"),
    (name = "web/options.js", esModule = embed "../web/options.js"),
    (name = "web/redact.js", esModule = embed "../web/redact.js"),
    (name = "web/pii-finder.js", esModule = embed "../web/pii-finder.js"),
    (name = "web/release/channel.js", esModule = embed "../web/release/channel.js"),
    (name = "web/release/download.js", esModule = embed "../web/release/download.js"),
    (name = "web/release/index.js", esModule = embed "../web/release/index.js"),
    (name = "web/release/install.js", esModule = embed "../web/release/install.js"),
    (name = "web/release/manifest.js", esModule = embed "../web/release/manifest.js"),
    (name = "web/release/rollout.js", esModule = embed "../web/release/rollout.js"),
    (name = "web/release/smoke.js", esModule = embed "../web/release/smoke.js"),
    (name = "web/release/store.js", esModule = embed "../web/release/store.js"),
    (name = "web/release/tagger.js", esModule = embed "../web/release/tagger.js"),
    (name = "web/release/telemetry.js", esModule = embed "../web/release/telemetry.js"),
    (name = "web/release/updater.js", esModule = embed "../web/release/updater.js"),
    (name = "web/release/verify.js", esModule = embed "../web/release/verify.js"),
    (name = "web/runtime.js", esModule = embed "../web/runtime.js"),
    (name = "web/source.js", esModule = embed "../web/source.js"),
    (name = "web/idb.js", esModule = embed "../web/idb.js"),
    (name = "web/text.js", esModule = embed "../web/text.js"),
    (name = "web/utf8.js", esModule = embed "../web/utf8.js"),
    (name = "web/worker-client.js", esModule = embed "../web/worker-client.js"),
    (name = "web/worker-main.js", esModule = embed "../web/worker-main.js"),
    (name = "build/edgetag-relaxed.wasm", wasm = embed "../build/edgetag-relaxed.wasm"),
    (name = "models/intent-clinc.gguf", data = embed "../models/intent-clinc.gguf"),
    (name = "models/maint-ner.gguf", data = embed "../models/maint-ner.gguf"),
    (name = "models/pii-ner.gguf", data = embed "../models/pii-ner.gguf"),
  ],
  compatibilityDate = "2026-11-01",
  globalOutbound = "internet",
  bindings = [
    (name = "EDGETAG_MODELS", fromEnvironment = "EDGETAG_MODELS"),
    (name = "EDGETAG_ESCALATION", fromEnvironment = "EDGETAG_ESCALATION"),
    (name = "EDGETAG_CLOUD_KEY", fromEnvironment = "EDGETAG_CLOUD_KEY"),
    (name = "EDGETAG_AUTH_TOKEN", fromEnvironment = "EDGETAG_AUTH_TOKEN"),
    (name = "EDGETAG_CAPTURE", fromEnvironment = "EDGETAG_CAPTURE"),
    (name = "EDGETAG_CORS_ORIGINS", fromEnvironment = "EDGETAG_CORS_ORIGINS"),
    (name = "EDGETAG_MAX_BODY_BYTES", fromEnvironment = "EDGETAG_MAX_BODY_BYTES"),
    (name = "EDGETAG_MAX_TEXTS", fromEnvironment = "EDGETAG_MAX_TEXTS"),
    (name = "EDGETAG_MAX_TEXT_CHARS", fromEnvironment = "EDGETAG_MAX_TEXT_CHARS"),
    (name = "EDGETAG_BATCH_TOKENS", fromEnvironment = "EDGETAG_BATCH_TOKENS"),
    (name = "EDGETAG_MAX_MEMORY", fromEnvironment = "EDGETAG_MAX_MEMORY"),
    (name = "EDGETAG_LOAD_RETRY_MS", fromEnvironment = "EDGETAG_LOAD_RETRY_MS"),
    (name = "EDGETAG_LOAD_TIMEOUT_MS", fromEnvironment = "EDGETAG_LOAD_TIMEOUT_MS"),
    (name = "EDGETAG_STATS_FLUSH_SECONDS", fromEnvironment = "EDGETAG_STATS_FLUSH_SECONDS"),
    (name = "EDGETAG_LOG", fromEnvironment = "EDGETAG_LOG"),
  ],
);
