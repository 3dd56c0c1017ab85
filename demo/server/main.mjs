// main.mjs — `make demo`: the field-notes app on http://127.0.0.1:DEMO_PORT and the stand-in cloud on
// http://127.0.0.1:CLOUD_PORT, until Ctrl-C (SIGINT) or SIGTERM stops both.
//
//   node demo/server/main.mjs            DEMO_PORT (default 8470) and CLOUD_PORT (default 8471) override the ports
import { startStandInCloud } from "./cloud.mjs";
import { startDemoServer } from "./serve.mjs";

function port(name, fallback) {
  const v = process.env[name] ?? String(fallback);
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`demo: ${name}=${v} is not a port number`);
    process.exit(2);
  }
  return n;
}

const short = (s, n = 90) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

let cloud, demo;
try {
  cloud = await startStandInCloud({
    port: port("CLOUD_PORT", 8471),
    onRequest: ({ task, text, rationale }) => console.log(`cloud ← ${task} ${JSON.stringify(short(text))}\n      → ${short(rationale)}`),
  });
  demo = await startDemoServer({ port: port("DEMO_PORT", 8470), cloudUrl: cloud.url });
} catch (e) {
  await cloud?.close();
  console.error(`demo: ${e.code === "EADDRINUSE" ? `port ${e.port} is taken: set DEMO_PORT / CLOUD_PORT to free ones` : e.message}`);
  process.exit(1);
}

console.log(`
  Field Notes, the edgetag demo     ${demo.base}/
  stand-in cloud (keyword rules)    ${cloud.url}

  Open the first URL in a browser: the models download once (about 18 MB) and are kept on the device;
  after that the app works offline. Notes the local models are unsure of go to the stand-in cloud,
  with personal data replaced; what it receives is printed below. Ctrl-C stops both servers.
`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  await Promise.all([demo.close(), cloud.close()]);
  console.log(`\ndemo: stopped (${signal})`);
  process.exit(0);
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
