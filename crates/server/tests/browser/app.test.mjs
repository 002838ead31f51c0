// The web app in real headless Chromium against a running `genre serve`, at desktop and phone
// size: upload a file; check the bars, the timeline, the CAM drawn in the page (readable text at
// phone width, the importance curve shown, the strip in the timeline's colours), the cursor
// following the player, one player pausing the other, the "outside the model's genres" note,
// and a failed upload clearing the old result with its error in view. Screenshots of each
// state go to OUT_DIR. Exit code 0 = pass.
// Usage: node app.test.mjs http://127.0.0.1:PORT/ AUDIO_FILE OUT_DIR
import { chromium } from "playwright-core";

const [url, audio, outDir] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };
const check = (ok, msg) => { if (!ok) fail(msg); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"],
});

// The CAM canvas: drawn 1:1 in CSS pixels (not a picture scaled down), its font size, and
// whether its plot holds more than one colour.
async function camFacts(page) {
  return page.evaluate(() => {
    const c = document.getElementById("cam-canvas");
    const L = c.layout;
    const dpr = window.devicePixelRatio || 1;
    const px = c.getContext("2d").getImageData(L.plotLeft * dpr, L.plotTop * dpr, L.plotW * dpr, L.plotH * dpr).data;
    const colours = new Set();
    for (let i = 0; i < px.length; i += 397 * 4) colours.add(`${px[i]},${px[i + 1]},${px[i + 2]}`);
    return { font: L.font, cssWidth: c.getBoundingClientRect().width, drawnWidth: c.width / dpr,
             viewport: window.innerWidth, colours: colours.size };
  });
}

// For each window: the timeline block's colour, the canvas strip's colour at the window's
// middle, and the colour the server gave its genre.
async function stripColours(page) {
  return page.evaluate(() => {
    const c = document.getElementById("cam-canvas");
    const L = c.layout;
    const dpr = window.devicePixelRatio || 1;
    const r = state.result;
    const ctx = c.getContext("2d");
    const blocks = [...document.querySelectorAll("#timeline > .seg")];
    // Windows may overlap: a later one is drawn over an earlier one; look where it is not.
    return r.segments.map((seg, i) => {
      const end = i + 1 < r.segments.length ? Math.min(seg.end, r.segments[i + 1].start) : seg.end;
      const x = L.plotLeft + ((seg.start + end) / 2 / r.duration) * L.plotW;
      const d = ctx.getImageData(Math.round(x * dpr), Math.round((L.stripTop + L.stripH / 2) * dpr), 1, 1).data;
      return { genre: seg.genre, timeline: getComputedStyle(blocks[i]).backgroundColor,
               strip: `rgb(${d[0]}, ${d[1]}, ${d[2]})`, server: r.colors[seg.genre] };
    });
  });
}

const hexToRgb = (h) => `rgb(${parseInt(h.slice(1, 3), 16)}, ${parseInt(h.slice(3, 5), 16)}, ${parseInt(h.slice(5, 7), 16)})`;

// Visible text smaller than 11 px anywhere on the page.
async function tinyText(page) {
  return page.evaluate(() => [...document.querySelectorAll("body *")]
    .filter((e) => e.checkVisibility() && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 11)
    .map((e) => `${e.tagName}#${e.id}.${e.className}`));
}

async function inViewport(page, selector) {
  return page.evaluate((sel) => {
    const b = document.querySelector(sel).getBoundingClientRect();
    return b.height > 0 && b.top >= 0 && b.bottom <= window.innerHeight;
  }, selector);
}

try {
  for (const [name, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 390, height: 844 }]]) {
    const page = await browser.newPage({ viewport });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url, { waitUntil: "load" });
    await page.setInputFiles("#file-input", audio);
    await page.waitForFunction(() => document.querySelectorAll("#bars > *").length >= 3
      && document.getElementById("cam-canvas").layout, null, { timeout: 120000 });
    const bars = await page.locator("#bars > *").count();
    const timeline = await page.locator("#timeline > *").count();
    check(bars >= 3, `${name}: only ${bars} bars`);
    check(timeline >= 1, `${name}: empty timeline`);

    // The CAM, drawn in the page at the page's width, its words >= 11 px.
    const cam = await camFacts(page);
    check(cam.font >= 11, `${name}: CAM text ${cam.font} px`);
    check(Math.abs(cam.cssWidth - cam.drawnWidth) < 1, `${name}: CAM drawn ${cam.drawnWidth} px, shown ${cam.cssWidth} px`);
    check(cam.cssWidth <= cam.viewport && cam.cssWidth >= 0.8 * Math.min(cam.viewport, 900),
      `${name}: CAM ${cam.cssWidth} px wide in a ${cam.viewport} px page`);
    check(cam.colours >= 3, `${name}: the CAM plot is blank (${cam.colours} colours)`);
    const small = await tinyText(page);
    check(small.length === 0, `${name}: text under 11 px: ${small.join(", ")}`);

    // The importance curve is shown, under the plot.
    const curve = await page.evaluate(() => {
      const svg = document.getElementById("cam-curve");
      const b = svg.getBoundingClientRect();
      return { visible: svg.checkVisibility(), height: b.height,
               points: document.getElementById("cam-line").getAttribute("points").split(" ").length };
    });
    check(curve.visible && curve.height > 20 && curve.points >= 2, `${name}: curve not shown ${JSON.stringify(curve)}`);

    // One colour per genre: timeline block = CAM strip = the server's colour for that genre.
    for (const s of await stripColours(page)) {
      check(s.server && s.timeline === hexToRgb(s.server), `${name}: timeline ${s.genre} ${s.timeline} != ${s.server}`);
      check(s.strip === s.timeline, `${name}: CAM strip ${s.genre} ${s.strip} != timeline ${s.timeline}`);
    }

    // The cursor follows the player.
    const left0 = await page.evaluate(() => document.getElementById("cam-cursor").style.left);
    await page.evaluate(() => document.getElementById("player").play());
    await page.waitForTimeout(1500);
    const left1 = await page.evaluate(() => document.getElementById("cam-cursor").style.left);
    const t = await page.evaluate(() => document.getElementById("player").currentTime);
    check(t > 0.3, `${name}: the player did not play (currentTime ${t})`);
    check(left0 !== left1, `${name}: the cursor did not move (${left0} -> ${left1})`);

    // Starting one player pauses the other.
    const paused = await page.evaluate(async () => {
      const [a, b] = [document.getElementById("player"), document.getElementById("quiz-audio")];
      b.hidden = false;
      b.src = a.src;
      await b.play();
      await new Promise((r) => setTimeout(r, 300));
      const first = { a: a.paused, b: b.paused };
      await a.play();
      await new Promise((r) => setTimeout(r, 300));
      const second = { a: a.paused, b: b.paused };
      a.pause();
      b.hidden = true;
      return { first, second };
    });
    check(paused.first.a && !paused.first.b, `${name}: the quiz player did not pause the result's ${JSON.stringify(paused)}`);
    check(!paused.second.a && paused.second.b, `${name}: the result's player did not pause the quiz's ${JSON.stringify(paused)}`);
    await page.screenshot({ path: `${outDir}/app-${name}.png`, fullPage: true });

    // Outside the model's genres: said, with the tags as chips; absent fields show nothing.
    const outside = await page.evaluate(() => {
      const served = { outside: typeof state.result.outside, tags: (state.result.genre_tags || []).length };
      const { outside: _o, genre_tags: _g, outside_tags: _t, ...plain } = state.result;
      render({ ...plain, outside: true, outside_tags: ["electronic", "dance"],
               genre_tags: [["electronic", 0.41], ["dance", 0.3], ["house", 0.12]] });
      const note = document.getElementById("outside");
      const shown = { text: note.textContent, visible: note.checkVisibility(),
                      chips: document.querySelectorAll("#genre-tags li").length };
      render(plain);
      const after = { note: document.getElementById("outside").checkVisibility(),
                      chips: document.getElementById("genre-tags").checkVisibility() };
      render(state.result);
      return { served, shown, after };
    });
    check(outside.served.outside === "boolean" && outside.served.tags === 5,
      `${name}: the server's answer carries the verdict and 5 genre tags ${JSON.stringify(outside.served)}`);
    check(outside.shown.visible && outside.shown.text.includes("Outside the model's genres (closest tags: electronic, dance)"),
      `${name}: outside note ${JSON.stringify(outside.shown)}`);
    check(outside.shown.chips === 3, `${name}: ${outside.shown.chips} tag chips`);
    check(!outside.after.note && !outside.after.chips, `${name}: outside note shown without the fields`);
    await page.evaluate(() => render({ ...state.result, outside: true, outside_tags: ["electronic", "dance"],
                                       genre_tags: [["electronic", 0.41], ["dance", 0.3]] }));
    await page.screenshot({ path: `${outDir}/app-${name}-outside.png` });

    // A failed upload clears the old result and shows its error.
    await page.setInputFiles("#file-input", { name: "broken.mp3", mimeType: "audio/mpeg", buffer: Buffer.from("not audio at all") });
    await page.waitForFunction(() => document.getElementById("error").textContent.trim().length > 0, null, { timeout: 60000 });
    const after = await page.evaluate(() => ({ results: document.getElementById("results").checkVisibility(),
                                               error: document.getElementById("error").textContent }));
    check(!after.results, `${name}: the old result is still shown after a failed upload`);
    check(await inViewport(page, "#error"), `${name}: the error "${after.error}" is out of view`);
    await page.screenshot({ path: `${outDir}/app-${name}-error.png` });

    check(errors.length === 0, `${name}: page errors: ${errors.join("; ")}`);
    console.log(`${name}: ${bars} bars, ${timeline} timeline blocks, CAM ${cam.cssWidth} px at ${cam.font} px text, ` +
                `cursor ${left0} -> ${left1} at ${t.toFixed(2)} s, error "${after.error}"`);
    await page.close();
  }
} finally {
  await browser.close();
}
