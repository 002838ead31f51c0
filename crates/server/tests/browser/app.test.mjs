// The web app in real headless Chromium against a running `genre serve`: upload a file, wait for
// the answer, check the bar chart and the CAM picture are shown and the player's cursor moves,
// and save screenshots (desktop and phone). Exit code 0 = pass.
// Usage: node app.test.mjs http://127.0.0.1:PORT/ AUDIO_FILE OUT_DIR
import { chromium } from "playwright-core";

const [url, audio, outDir] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"],
});
try {
  for (const [name, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 375, height: 812 }]]) {
    const page = await browser.newPage({ viewport });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url, { waitUntil: "load" });
    await page.setInputFiles("#file-input", audio);
    // The answer: bars drawn and the CAM picture loaded.
    await page.waitForFunction(() => {
      const img = document.getElementById("cam-picture");
      return document.querySelectorAll("#bars > *").length >= 3 && img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 120000 });
    const bars = await page.locator("#bars > *").count();
    const timeline = await page.locator("#timeline > *").count();
    if (bars < 3) fail(`${name}: only ${bars} bars`);
    if (timeline < 1) fail(`${name}: empty timeline`);
    const left0 = await page.evaluate(() => document.getElementById("cam-cursor").style.left);
    await page.evaluate(() => document.getElementById("player").play());
    await page.waitForTimeout(1500);
    const left1 = await page.evaluate(() => document.getElementById("cam-cursor").style.left);
    const t = await page.evaluate(() => document.getElementById("player").currentTime);
    if (!(t > 0.3)) fail(`${name}: the player did not play (currentTime ${t})`);
    if (left0 === left1) fail(`${name}: the cursor did not move (${left0} -> ${left1})`);
    await page.screenshot({ path: `${outDir}/app-${name}.png`, fullPage: true });
    if (errors.length) fail(`${name}: page errors: ${errors.join("; ")}`);
    console.log(`${name}: ${bars} bars, ${timeline} timeline blocks, cursor ${left0} -> ${left1} at ${t.toFixed(2)} s`);
    await page.close();
  }
} finally {
  await browser.close();
}
