// icons.mjs — renders demo/icons/icon.svg into the PNGs the web app manifest lists (192 and 512 pixels, and a
// maskable 512 with the artwork inside the safe circle), through Debian's Chromium. Run it after changing
// the SVG, and commit the PNGs:   node demo/server/icons.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const dir = new URL("../icons/", import.meta.url);
const svg = readFileSync(new URL("icon.svg", dir), "utf8");
const art = svg.replace(/^<svg[^>]*>/, "").replace(/<\/svg>\s*$/, "");

// Maskable: a full-bleed background, the artwork scaled to 70 % around the centre (inside the 80 % safe circle).
const maskable = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">
  <rect width="512" height="512" fill="#0f5f59"/><g transform="translate(76.8 76.8) scale(0.7)">${art}</g></svg>`;

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const [name, source, size] of [["icon-192.png", svg, 192], ["icon-512.png", svg, 512], ["icon-maskable-512.png", maskable, 512]]) {
    await page.setViewportSize({ width: size, height: size });
    const sized = source.replace(/width="512" height="512"/, `width="${size}" height="${size}"`);
    await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block}</style>${sized}`);
    writeFileSync(new URL(name, dir), await page.screenshot({ omitBackground: true }));
    console.log(`demo/icons/${name}`);
  }
} finally {
  await browser.close();
}
