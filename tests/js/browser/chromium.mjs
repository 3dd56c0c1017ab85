// chromium.mjs — how the browser tests start Debian's Chromium through playwright-core: its path, the flags
// that keep it quiet and offline-friendly (no sandbox in containers, no GPU, no QUIC, no background
// networking, updates or sync), and a persistent profile so IndexedDB and service workers outlive a restart.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

/** Fails with the command that installs Chromium when it is missing. */
export function checkChromium() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`make setup\` (it installs Debian's chromium)`);
}

/** A headless Chromium on the profile directory `profile` (close it and launch again on it to restart). */
export function launchChromium(profile, { args = [], ...options } = {}) {
  checkChromium();
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args], ...options });
}
