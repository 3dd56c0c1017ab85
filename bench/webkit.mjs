// webkit.mjs — a benchmark page in WebKitGTK (Safari's engine family), for bench/run.mjs, bench/kernels.mjs and
// bench/e2e.mjs: MiniBrowser under Xvfb, driven over WebDriver by tests/js/browser/webdriver.mjs's startWebKit(); a
// call into the page that may run for many minutes, with its console lines relayed while it runs; WebKitGTK's
// version and the peak memory of its processes. Not a command.
//
//   const why = webkitUnavailable();                       // null, or why WebKitGTK cannot run here
//   const page = await openWebKit(url, "window.benchReady === true");
//   const result = await page.call("runBench", cfg, (line) => log(line));
//   page.version; page.peaks(); await page.close();
//
// A WebDriver command waits until the page's event loop is free, and Node's fetch gives up on an answer after
// 300 s, so a long call is started by one command and polled by others: the page must yield to its event loop
// (a setTimeout) at least every few minutes — the suites do between samples (host.pause).
import { execFileSync } from "node:child_process";
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startWebKit, webkitMissing } from "../tests/js/browser/webdriver.mjs";
import { processTree } from "./procs.mjs";

/** Why WebKitGTK cannot run here (the packages `make setup` installs, or a display), or null when it can. */
export function webkitUnavailable() {
  return webkitMissing();
}

/** WebKitGTK's version, from its Debian package (MiniBrowser's user agent names Safari's, not WebKitGTK's). */
function webkitVersion() {
  try {
    return execFileSync("dpkg-query", ["-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"], { encoding: "utf8" }).split("-")[0];
  } catch {
    return "(version unknown)";
  }
}

/**
 * Starts WebKitGTK, opens `url` and waits until `readyExpr` (a JavaScript expression) is true in the page, or a
 * page error is recorded. Throws with the reason when WebKitGTK does not start or the page does not get ready; the
 * browser is stopped then.
 */
export async function openWebKit(url, readyExpr, { timeoutMs = 120_000 } = {}) {
  const wk = await startWebKit();
  try {
    const s = wk.session;
    await s.setTimeouts({ script: null, pageLoad: timeoutMs });
    await s.navigate(url);
    const state = await s.until(`return (${readyExpr}) ? "ready" : (window.benchPageError ?? null)`, Boolean, { timeoutMs });
    if (state !== "ready") throw new Error(`the page failed: ${state}`);
  } catch (e) {
    await wk.stop();
    throw e;
  }
  const s = wk.session;
  return {
    session: s,
    version: webkitVersion(),
    userAgent: await s.execute("return navigator.userAgent"),
    /** Calls window[fn](arg) (a promise is awaited) and returns its value, relaying console.log lines to onLog. */
    async call(fn, arg, onLog, { every = 1000 } = {}) {
      await s.execute(`const [fn, arg] = arguments;
        const b = window.__bench = { log: [], done: false };
        window.__consoleLog ??= console.log.bind(console);
        console.log = (...a) => { b.log.push(a.join(" ")); window.__consoleLog(...a); };
        Promise.resolve().then(() => window[fn](arg)).then((r) => { b.result = r; b.done = true; },
          (e) => { b.error = String((e && e.stack) || e); b.done = true; });
        return true;`, fn, arg);
      for (;;) {
        await sleep(every);
        const st = await s.execute("const b = window.__bench; return { log: b.log.splice(0), done: b.done, error: b.error ?? null };");
        for (const line of st.log) onLog?.(line);
        if (st.error) throw new Error(`webkit page: ${st.error}`);
        if (st.done) return s.execute("return window.__bench.result");
      }
    },
    /** Peak RSS (VmHWM) of WebKit's processes: the web content process's, and the sum over MiniBrowser and WebKit's. */
    peaks() {
      const name = (p) => basename(p.cmd.split("\0")[0]) || p.comm; // comm is cut at 15 characters
      const mine = processTree((p) => p.pid === wk.pid).filter((p) => /^(MiniBrowser|WebKit(?!WebDriver))/.test(name(p)));
      return {
        renderer: Math.max(0, ...mine.filter((p) => name(p) === "WebKitWebProcess").map((p) => p.hwm)),
        total: mine.reduce((a, p) => a + p.hwm, 0),
        processes: mine.map((p) => `${name(p)} ${(p.hwm / 2 ** 20).toFixed(0)} MB`),
      };
    },
    close: () => wk.stop(),
  };
}
