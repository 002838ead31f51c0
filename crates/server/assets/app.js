// genre web front end. Plain ES2020, no libraries, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const RECORD_SECONDS = 15;
const SCORE_KEY = "genre.quiz.score";
const pct = (p) => `${Math.round(p * 100)}%`;
const secs = (t) => t.toFixed(1);

// ---------------------------------------------------------------- API helper

// Friendly text for statuses whose body is not our JSON (e.g. a proxy's HTML page).
const STATUS_TEXT = {
  404: "Not found.",
  413: "That file is too large.",
  415: "That does not look like an audio file.",
  422: "The audio could not be decoded (empty or damaged file?).",
  503: "The server is busy, please try again in a moment.",
};

// fetch + JSON; throws an Error whose message is safe to show to the person.
// err.status carries the HTTP status (0 when the server could not be reached).
async function api(url, options) {
  let res;
  try {
    res = await fetch(url, options);
  } catch (_) {
    const e = new Error("The genre server cannot be reached. Is `genre serve` running?");
    e.status = 0;
    throw e;
  }
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON: handled below */ }
  if (!res.ok) {
    const msg = (body && body.error) || STATUS_TEXT[res.status] || `Server error (${res.status}).`;
    const e = new Error(msg);
    e.status = res.status;
    throw e;
  }
  if (body === null) throw Object.assign(new Error("The server sent an unexpected reply."), { status: res.status });
  return body;
}

// ------------------------------------------------------------ classify state

const state = {
  file: null,       // the File/Blob last classified (re-posted by "Explain")
  audioUrl: null,   // object URL of `file`, revoked when replaced
  result: null,     // last /api/predict response
  busy: false,
};

function setStatus(text, busy = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("busy", busy);
}
function setError(text) { $("error").textContent = text || ""; }

// Disable every control that would start another upload or recording.
function setBusy(busy) {
  state.busy = busy;
  for (const id of ["file-input", "explain-class", "explain-go"]) $(id).disabled = busy;
  if (!recorder) $("record").disabled = busy;
}

async function classify(file, cls) {
  if (state.busy) return;
  setBusy(true);
  setError("");
  setStatus(cls ? `Explaining "${cls}"...` : `Analysing ${file.name || "audio"}...`, true);
  const form = new FormData();
  form.append("file", file, file.name || "audio");
  const url = "/api/predict" + (cls ? `?class=${encodeURIComponent(cls)}` : "");
  try {
    const result = await api(url, { method: "POST", body: form });
    const isNewFile = file !== state.file;
    state.file = file;
    state.result = result;
    if (isNewFile) setAudio(file);
    render(result);
    setStatus(cls ? `Showing the explanation for ${cls}.` : "Done.");
  } catch (e) {
    setStatus("");
    // A new file that failed: the old file's result would read as this one's.
    if (file !== state.file) clearResult();
    setError(e.message);
    $("error").scrollIntoView({ block: "center" });
  } finally {
    setBusy(false);
  }
}

function clearResult() {
  state.file = null;
  state.result = null;
  $("results").hidden = true;
  const player = $("player");
  player.pause();
  player.removeAttribute("src");
  player.load();
  if (state.audioUrl) URL.revokeObjectURL(state.audioUrl);
  state.audioUrl = null;
}

// One sound at a time: a player that starts pauses the others (the result's, the quiz's).
function initPlayers() {
  document.addEventListener("play", (e) => {
    for (const a of document.querySelectorAll("audio")) if (a !== e.target && !a.paused) a.pause();
  }, true); // "play" does not bubble: caught on the way down
}

function setAudio(file) {
  if (state.audioUrl) URL.revokeObjectURL(state.audioUrl);
  state.audioUrl = URL.createObjectURL(file);
  $("player").src = state.audioUrl;
}

// ------------------------------------------------------------------ results

// A genre's colour: the server's, fixed by the genre's name (the same in its pictures and for
// every model); grey until it is known.
let modelColors = {};
function colourOf(name, r) {
  return (r && r.colors && r.colors[name]) || modelColors[name] || "#888888";
}

function render(r) {
  $("results").hidden = false;
  const top = r.top && r.top[0];
  const verdict = $("verdict");
  verdict.textContent = "";
  verdict.append("Genre: ");
  const strong = document.createElement("strong");
  strong.textContent = r.genre;
  verdict.append(strong, top ? ` (${pct(top[1])})` : "", ` - ${r.file || "audio"}, ${secs(r.duration)} s`);

  renderOutside(r);
  renderBars(r);
  renderTimeline(r);
  renderCam(r);
  renderExplainSelect(r);
  updateCursor();
}

// Music outside the model's genres: said plainly, with the closest tags of a broader tagger.
// Answers without these fields show nothing extra.
function renderOutside(r) {
  const tags = Array.isArray(r.genre_tags)
    ? r.genre_tags.filter((t) => Array.isArray(t) && typeof t[0] === "string")
    : [];
  const note = $("outside");
  note.hidden = r.outside !== true;
  // The server names the closest tags outside the model's genres; else the strongest tags.
  const named = Array.isArray(r.outside_tags) ? r.outside_tags.filter((t) => typeof t === "string") : [];
  const closest = (named.length ? named : tags.slice(0, 2).map((t) => t[0])).join(", ");
  note.textContent = note.hidden ? "" : `Outside the model's genres${closest ? ` (closest tags: ${closest})` : ""}`;
  const chips = $("genre-tags");
  chips.textContent = "";
  chips.hidden = tags.length === 0;
  for (const [name, p] of tags) {
    const li = document.createElement("li");
    li.textContent = Number.isFinite(p) ? `${name} ${pct(p)}` : name;
    chips.append(li);
  }
}

function renderBars(r) {
  const box = $("bars");
  box.textContent = "";
  const order = r.classes.map((c, i) => [c, r.probabilities[i] || 0])
    .sort((a, b) => b[1] - a[1]);
  order.forEach(([name, p], rank) => {
    const row = document.createElement("div");
    row.className = "bar-row" + (rank === 0 ? " best" : ""); // not "top": the header's class
    row.setAttribute("role", "listitem");
    const label = document.createElement("span");
    label.className = "bar-name";
    label.textContent = name;
    const track = document.createElement("span");
    track.className = "bar-track";
    track.setAttribute("aria-hidden", "true"); // the percentage text says the same
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
    fill.style.background = colourOf(name, r);
    track.append(fill);
    const val = document.createElement("span");
    val.className = "bar-pct";
    val.textContent = pct(p);
    row.append(label, track, val);
    box.append(row);
  });
}

function renderTimeline(r) {
  const box = $("timeline");
  const legend = $("legend");
  box.textContent = "";
  legend.textContent = "";
  const used = new Set();
  for (const seg of r.segments || []) {
    const gi = r.classes.indexOf(seg.genre);
    const p = seg.probabilities ? seg.probabilities[gi] || 0 : 0;
    const text = `${secs(seg.start)}-${secs(seg.end)} s: ${seg.genre} ${pct(p)}`;
    const block = document.createElement("div");
    block.className = "seg";
    block.setAttribute("role", "listitem");
    block.title = text;
    block.setAttribute("aria-label", text);
    // flex-grow with a zero basis makes widths proportional to the window's duration.
    block.style.flex = `${Math.max(0.01, seg.end - seg.start)} 1 0`;
    block.style.background = colourOf(seg.genre, r);
    box.append(block);
    used.add(seg.genre);
  }
  for (const name of r.classes.filter((c) => used.has(c))) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = colourOf(name, r);
    li.append(sw, name);
    legend.append(li);
  }
}

function renderCam(r) {
  const ok = !!(r.cam && Array.isArray(r.cam.grid) && r.cam.rows > 0 && r.cam.cols > 0);
  $("cam-section").hidden = !ok;
  if (!ok) return;
  drawCam(r);
  renderCurve(r);
}

// ---------------------------------------------------------------- CAM canvas

// The CAM is drawn here, not as a server picture scaled to the screen: its words stay 12-13
// CSS px at any width (a 1400 px picture on a phone made them 3-6 px).
function camLayout(width) {
  const narrow = width < 600;
  const font = narrow ? 12 : 13;
  const L = { font, width, plotLeft: Math.round(font * 3.6), plotTop: font + 10, plotH: narrow ? 150 : 230 };
  L.plotW = Math.max(40, width - L.plotLeft - 8);
  L.ticksTop = L.plotTop + L.plotH + 6;              // second ticks, then "time (s)"
  L.stripTop = L.ticksTop + 2 * (font + 4) + 6;
  L.stripH = 16;
  L.barTop = L.stripTop + L.stripH + 16;             // evidence colour bar
  L.barW = Math.min(200, L.plotW);
  L.barH = 10;
  L.unitTop = L.barTop + L.barH + font + 10;
  L.height = L.unitTop + font + 8;
  return L;
}

const grey = (t) => 30 + 200 * Math.max(0, Math.min(1, t));
// Transparent (cold) to red to yellow (hot), as the server's pictures.
const heat = (t) => [255, 255 * Math.max(0, t - 0.35) / 0.65, 0];
const opacity = (t) => 0.65 * Math.max(0, Math.min(1, t));
// The colour evidence t gives a mid-grey spectrogram: what the colour bar shows.
function evidenceColour(t) {
  const g = grey(0.3), h = heat(t), a = opacity(t);
  return `rgb(${h.map((c) => Math.round(g * (1 - a) + c * a)).join(",")})`;
}

// An offscreen canvas `cols` x `rows` (row 0 at the bottom) with each cell's RGBA.
function cellImage(cols, rows, rgba) {
  const off = document.createElement("canvas");
  off.width = cols;
  off.height = rows;
  const octx = off.getContext("2d");
  const img = octx.createImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) img.data.set(rgba(r, c), ((rows - 1 - r) * cols + c) * 4);
  }
  octx.putImageData(img, 0, 0);
  return off;
}

function spectrogramImage(spec) {
  const bytes = atob(spec.levels);
  return cellImage(spec.cols, spec.rows, (r, c) => {
    const v = grey(bytes.charCodeAt(r * spec.cols + c) / 255);
    return [v, v, v, 255];
  });
}

function evidenceImage(cam) {
  return cellImage(cam.cols, cam.rows, (r, c) => {
    const v = cam.grid[r * cam.cols + c] || 0;
    return v > 0.05 ? [...heat(v), 255 * opacity(v)] : [0, 0, 0, 0];
  });
}

function drawCam(r) {
  const canvas = $("cam-canvas");
  const L = camLayout(Math.max(200, $("cam-box").clientWidth));
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(L.width * dpr);
  canvas.height = Math.round(L.height * dpr);
  canvas.style.width = `${L.width}px`;
  canvas.style.height = `${L.height}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, L.width, L.height);
  const fg = getComputedStyle(canvas).color;
  ctx.font = `${L.font}px system-ui, sans-serif`;
  ctx.fillStyle = fg;
  ctx.strokeStyle = fg;
  drawPlot(ctx, L, r);
  drawFreqAxis(ctx, L, r.cam.spectrogram);
  drawTimeAxis(ctx, L, r.duration);
  drawStrip(ctx, L, r);
  drawEvidenceBar(ctx, L);
  canvas.layout = L; // read by the cursor, clicks, the curve and the browser test
  canvas.setAttribute("aria-label",
    `Spectrogram of ${r.file || "the audio"} with the evidence for "${r.cam.class}" over it, and the genre of each window`);
}

// Spectrogram in grey (when sent), evidence over it; both span their own seconds.
function drawPlot(ctx, L, r) {
  const dur = r.duration > 0 ? r.duration : 1;
  ctx.save();
  ctx.beginPath();
  ctx.rect(L.plotLeft, L.plotTop, L.plotW, L.plotH);
  ctx.clip();
  ctx.fillStyle = "rgb(30,30,30)";
  ctx.fillRect(L.plotLeft, L.plotTop, L.plotW, L.plotH);
  const spec = r.cam.spectrogram;
  if (spec && spec.levels && spec.rows > 0 && spec.cols > 0) {
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(spectrogramImage(spec), L.plotLeft, L.plotTop, L.plotW * spec.seconds / dur, L.plotH);
  }
  const cam = r.cam;
  const camSecs = cam.cols / (cam.cells_per_sec || 10);
  ctx.imageSmoothingEnabled = false; // cells as computed, not blurred into each other
  ctx.drawImage(evidenceImage(cam), L.plotLeft, L.plotTop, L.plotW * camSecs / dur, L.plotH);
  ctx.restore();
}

function formatHz(hz) { return hz >= 1000 ? `${(hz / 1000).toFixed(1)}k` : `${Math.round(hz)}`; }

function drawFreqAxis(ctx, L, spec) {
  const hz = spec && Array.isArray(spec.band_hz) && spec.band_hz.length > 1 ? spec.band_hz : null;
  const n = hz ? hz.length : 2;
  const rows = hz ? [0, Math.round((n - 1) / 3), Math.round((2 * (n - 1)) / 3), n - 1] : [0, 1];
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const row of rows) {
    const y = L.plotTop + L.plotH - ((row + 0.5) / n) * L.plotH;
    ctx.fillRect(L.plotLeft - 4, Math.round(y), 4, 1);
    ctx.fillText(hz ? formatHz(hz[row]) : row ? "high" : "low", L.plotLeft - 6, y);
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(hz ? "Hz" : "pitch", 2, 2);
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}

function drawTimeAxis(ctx, L, duration) {
  const dur = duration > 0 ? duration : 1;
  // Labels about 6 font sizes apart at most.
  const step = niceStep(dur / Math.max(2, Math.floor(L.plotW / (L.font * 6))));
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let s = 0; s <= dur + 1e-9; s += step) {
    const x = L.plotLeft + (s / dur) * L.plotW;
    ctx.fillRect(Math.round(x), L.plotTop + L.plotH, 1, 4);
    ctx.fillText(step >= 1 ? s.toFixed(0) : s.toFixed(1), Math.min(x, L.plotLeft + L.plotW - L.font), L.ticksTop);
  }
  ctx.fillText("time (s)", L.plotLeft + L.plotW / 2, L.ticksTop + L.font + 4);
}

// The genre of each window in the genre's colour: the timeline's colours, the server's.
function drawStrip(ctx, L, r) {
  const dur = r.duration > 0 ? r.duration : 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.fillText("genre", L.plotLeft - 6, L.stripTop + L.stripH / 2);
  const fg = ctx.fillStyle;
  for (const seg of r.segments || []) {
    const x0 = L.plotLeft + (Math.max(0, seg.start) / dur) * L.plotW;
    const x1 = L.plotLeft + (Math.min(dur, seg.end) / dur) * L.plotW;
    ctx.fillStyle = colourOf(seg.genre, r);
    ctx.fillRect(x0, L.stripTop, Math.max(1, x1 - x0), L.stripH);
  }
  ctx.fillStyle = fg;
}

function drawEvidenceBar(ctx, L) {
  const fg = ctx.fillStyle;
  for (let i = 0; i < L.barW; i++) {
    ctx.fillStyle = evidenceColour(i / (L.barW - 1));
    ctx.fillRect(L.plotLeft + i, L.barTop, 1, L.barH);
  }
  ctx.fillStyle = fg;
  ctx.strokeRect(L.plotLeft - 0.5, L.barTop - 0.5, L.barW + 1, L.barH + 1);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of [0, 0.5, 1]) ctx.fillText(String(t), L.plotLeft + t * L.barW, L.barTop + L.barH + 3);
  ctx.textAlign = "left";
  ctx.fillText("evidence, 0-1 (1 = the file's strongest 0.5% of cells)", L.plotLeft, L.unitTop);
}

// The importance of each second, under the plot and as wide as it. An SVG element has no
// `hidden` property (only HTML elements do): the attribute itself is set or removed.
function renderCurve(r) {
  const svg = $("cam-curve");
  const vals = r.cam && Array.isArray(r.cam.seconds) ? r.cam.seconds : [];
  svg.toggleAttribute("hidden", vals.length === 0);
  if (vals.length === 0) return;
  const n = vals.length;
  // Relative to the highest second: a second's mean evidence is often a fifth of the grid's
  // maximum, and a curve along the floor shows no shape.
  const top = Math.max(1e-6, ...vals.map((v) => (Number.isFinite(v) ? v : 0)));
  const pts = vals.map((v, i) => {
    const x = n === 1 ? 500 : (i / (n - 1)) * 1000;
    const y = 95 - Math.max(0, Math.min(1, v / top)) * 90;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  $("cam-line").setAttribute("points", pts.join(" "));
  svg.setAttribute("aria-label", `Importance per second for ${r.cam.class}, ${n} seconds`);
  const L = $("cam-canvas").layout;
  svg.style.marginLeft = `${L.plotLeft}px`;
  svg.style.width = `${L.plotW}px`;
}

function renderExplainSelect(r) {
  const sel = $("explain-class");
  const current = (r.cam && r.cam.class) || r.genre;
  sel.textContent = "";
  for (const c of r.classes) {
    const o = document.createElement("option");
    o.value = c;
    o.textContent = c;
    if (c === current) o.selected = true;
    sel.append(o);
  }
}

// ------------------------------------------------------------ CAM cursor

function updateCursor() {
  const r = state.result;
  const L = $("cam-canvas").layout;
  if (!r || !L) return;
  const t = $("player").currentTime || 0;
  const frac = r.duration > 0 ? Math.max(0, Math.min(1, t / r.duration)) : 0;
  const cursor = $("cam-cursor");
  cursor.style.left = `${(L.plotLeft + frac * L.plotW).toFixed(1)}px`;
  cursor.style.top = `${L.plotTop}px`;
  cursor.style.height = `${L.plotH}px`;
  const box = $("cam-box");
  box.setAttribute("aria-valuemax", secs(r.duration));
  box.setAttribute("aria-valuenow", secs(Math.min(t, r.duration)));
  box.setAttribute("aria-valuetext", `${secs(t)} s of ${secs(r.duration)} s`);
  const seg = segmentAt(t, r.segments || []);
  const text = `now: ${seg ? seg.genre : "-"} (${secs(t)} s)`;
  const now = $("now");
  if (now.textContent !== text) now.textContent = text;
}

// Windows may overlap: pick the window containing t whose centre is nearest.
function segmentAt(t, segs) {
  let best = null, bestDist = Infinity;
  for (const s of segs) {
    if (t < s.start || t > s.end) continue;
    const d = Math.abs((s.start + s.end) / 2 - t);
    if (d < bestDist) { best = s; bestDist = d; }
  }
  return best || (segs.length && t > segs[segs.length - 1].end ? segs[segs.length - 1] : null);
}

let rafId = 0;
function tick() {
  updateCursor();
  rafId = $("player").paused ? 0 : requestAnimationFrame(tick);
}
function startTicking() { if (!rafId) rafId = requestAnimationFrame(tick); }

function seekTo(t) {
  const player = $("player");
  const r = state.result;
  if (!r) return;
  const max = isFinite(player.duration) ? player.duration : r.duration;
  player.currentTime = Math.max(0, Math.min(max, t));
  updateCursor();
}

function initCamPlayer() {
  const player = $("player");
  player.addEventListener("play", startTicking);
  for (const ev of ["seeked", "timeupdate", "pause", "ended", "loadedmetadata"]) {
    player.addEventListener(ev, updateCursor);
  }
  // The canvas is drawn for its width: drawn again when the width changes (a phone turned).
  let lastWidth = 0;
  window.addEventListener("resize", () => {
    const r = state.result, w = $("cam-box").clientWidth;
    if (r && !$("cam-section").hidden && w !== lastWidth) renderCam(r);
    lastWidth = w;
    updateCursor();
  });

  const box = $("cam-box");
  box.addEventListener("click", (e) => {
    const r = state.result, L = $("cam-canvas").layout;
    if (!r || !L) return;
    const x = e.clientX - $("cam-canvas").getBoundingClientRect().left;
    seekTo(((x - L.plotLeft) / L.plotW) * r.duration);
  });
  // Keyboard equivalent of clicking: arrows step 1 s (5 s with Shift), Home/End jump.
  box.tabIndex = 0;
  box.setAttribute("role", "slider");
  box.setAttribute("aria-label", "Position in the spectrogram; arrow keys seek the audio");
  box.setAttribute("aria-valuemin", "0");
  box.addEventListener("keydown", (e) => {
    const t = player.currentTime || 0;
    const step = e.shiftKey ? 5 : 1;
    const moves = { ArrowLeft: t - step, ArrowRight: t + step, Home: 0, End: Infinity };
    if (e.key in moves) { e.preventDefault(); seekTo(moves[e.key]); }
  });
}

// ---------------------------------------------------------------- recording

let recorder = null; // { stream, ctx, source, proc, chunks, timer, started }

async function startRecording() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setError("Recording is not available in this browser (it needs https or localhost).");
    return;
  }
  setError("");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    setError("Microphone access was refused or is unavailable.");
    return;
  }
  const Ctx = window.AudioContext || window.webkitAudioContext;
  const ctx = new Ctx();
  const source = ctx.createMediaStreamSource(stream);
  // ScriptProcessor with 1 input channel: the browser downmixes the mic to mono for us.
  const proc = ctx.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  proc.onaudioprocess = (e) => {
    chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    e.outputBuffer.getChannelData(0).fill(0); // keep the speakers silent
  };
  source.connect(proc);
  proc.connect(ctx.destination); // some browsers only run the processor when it is connected
  recorder = { stream, ctx, source, proc, chunks, started: Date.now(), timer: 0 };

  const btn = $("record");
  btn.classList.add("recording");
  btn.setAttribute("aria-pressed", "true");
  $("file-input").disabled = true;
  const update = () => {
    const left = RECORD_SECONDS - Math.floor((Date.now() - recorder.started) / 1000);
    if (left <= 0) { stopRecording(); return; }
    btn.textContent = `Stop (${left} s)`;
    setStatus(`Recording... ${left} s left`, true);
  };
  update();
  recorder.timer = setInterval(update, 250);
}

function stopRecording() {
  const rec = recorder;
  if (!rec) return;
  recorder = null;
  clearInterval(rec.timer);
  rec.proc.onaudioprocess = null;
  rec.source.disconnect();
  rec.proc.disconnect();
  rec.stream.getTracks().forEach((t) => t.stop());
  const rate = rec.ctx.sampleRate;
  rec.ctx.close().catch(() => {});

  const btn = $("record");
  btn.classList.remove("recording");
  btn.setAttribute("aria-pressed", "false");
  btn.textContent = `Record ${RECORD_SECONDS} s`;
  $("file-input").disabled = false;

  // Trim to at most 15 s: the last ScriptProcessor buffer can overshoot a little.
  let samples = concat(rec.chunks);
  samples = samples.subarray(0, Math.min(samples.length, Math.round(rate * RECORD_SECONDS)));
  if (samples.length === 0) {
    setStatus("");
    setError("Nothing was recorded.");
    return;
  }
  const wav = encodeWav(samples, rate);
  const file = new File([wav], "recording.wav", { type: "audio/wav" });
  classify(file);
}

function concat(chunks) {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) { out.set(c, off); off += c.length; }
  return out;
}

// 16-bit PCM mono WAV: 44-byte RIFF header followed by little-endian samples.
function encodeWav(samples, rate) {
  const buf = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(buf);
  const str = (off, s) => { for (let i = 0; i < s.length; i++) v.setUint8(off + i, s.charCodeAt(i)); };
  str(0, "RIFF");
  v.setUint32(4, 36 + samples.length * 2, true);
  str(8, "WAVE");
  str(12, "fmt ");
  v.setUint32(16, 16, true);        // fmt chunk size
  v.setUint16(20, 1, true);         // PCM
  v.setUint16(22, 1, true);         // mono
  v.setUint32(24, rate, true);      // sample rate
  v.setUint32(28, rate * 2, true);  // byte rate = rate * channels * 2
  v.setUint16(32, 2, true);         // block align
  v.setUint16(34, 16, true);        // bits per sample
  str(36, "data");
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0, off = 44; i < samples.length; i++, off += 2) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(off, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buf], { type: "audio/wav" });
}

// ---------------------------------------------------------------- model info

async function loadModel() {
  try {
    const m = await api("/api/model");
    const info = $("model-info");
    info.textContent = "";
    const b = document.createElement("strong");
    b.textContent = m.name || "model";
    info.append(b, m.description ? ` - ${m.description}` : "");
    modelColors = m.colors || {};
    const list = $("model-classes");
    list.textContent = "";
    for (const c of m.classes || []) {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = colourOf(c);
      li.append(sw, c);
      list.append(li);
    }
  } catch (e) {
    $("model-info").textContent = e.message;
  }
}

// ---------------------------------------------------------------------- quiz

const quiz = { current: null, pending: null, off: false };

function loadScore() {
  try {
    const s = JSON.parse(localStorage.getItem(SCORE_KEY) || "null");
    if (s && Number.isFinite(s.you) && Number.isFinite(s.model)) return s;
  } catch (_) { /* storage blocked or corrupt: start from zero */ }
  return { you: 0, model: 0 };
}
function saveScore(s) {
  try { localStorage.setItem(SCORE_KEY, JSON.stringify(s)); } catch (_) { /* private mode */ }
  showScore(s);
}
function showScore(s) { $("quiz-score").textContent = `You ${s.you} - Model ${s.model}`; }

function quizUnavailable(msg) {
  quiz.off = true;
  $("quiz-next").disabled = true;
  $("quiz-audio").hidden = true;
  $("quiz-choices").textContent = "";
  $("quiz-result").textContent = msg;
}

// Fetches the next clip; a 404 means the server was started without --quiz.
async function fetchQuiz() {
  try {
    return await api("/api/quiz/next");
  } catch (e) {
    if (e.status === 404) quizUnavailable(e.message);
    else $("quiz-result").textContent = e.message;
    return null;
  }
}

async function nextClip() {
  const btn = $("quiz-next");
  btn.disabled = true;
  // A clip prefetched at start-up (to find out whether the quiz exists) is used first.
  const q = quiz.pending || await fetchQuiz();
  quiz.pending = null;
  if (!q) { btn.disabled = quiz.off; return; } // fetchQuiz already said why
  btn.disabled = false;
  quiz.current = q;
  $("quiz-result").textContent = "Listen, then pick a genre.";
  const audio = $("quiz-audio");
  audio.hidden = false;
  audio.src = q.audio;
  audio.play().catch(() => { /* autoplay refused: the controls are there */ });
  const box = $("quiz-choices");
  box.textContent = "";
  for (const c of q.choices || []) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = c;
    b.dataset.genre = c;
    b.addEventListener("click", () => answer(c));
    box.append(b);
  }
  const first = box.querySelector("button");
  if (first) first.focus();
}

async function answer(guess) {
  const q = quiz.current;
  if (!q) return;
  quiz.current = null; // one answer per clip
  const buttons = [...$("quiz-choices").querySelectorAll("button")];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const a = await api("/api/quiz/answer", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: q.id, guess }),
    });
    for (const b of buttons) {
      if (b.dataset.genre === a.truth) b.classList.add("truth");
      else if (b.dataset.genre === guess) b.classList.add("wrong");
    }
    const s = loadScore();
    if (a.you_right) s.you += 1;
    if (a.model_right) s.model += 1;
    saveScore(s);
    const mt = a.model_top && a.model_top[0];
    $("quiz-result").textContent =
      `It was ${a.truth}. You said ${guess} (${a.you_right ? "right" : "wrong"}); ` +
      `the model said ${a.model}${mt ? ` (${pct(mt[1])})` : ""} (${a.model_right ? "right" : "wrong"}).`;
  } catch (e) {
    $("quiz-result").textContent = e.message;
  }
  $("quiz-next").focus();
}

async function initQuiz() {
  showScore(loadScore());
  $("quiz-next").addEventListener("click", nextClip);
  $("quiz-reset").addEventListener("click", () => saveScore({ you: 0, model: 0 }));
  quiz.pending = await fetchQuiz();
}

// ---------------------------------------------------------------------- init

function init() {
  $("file-input").addEventListener("change", (e) => {
    const f = e.target.files && e.target.files[0];
    if (f) classify(f);
  });
  $("record").addEventListener("click", () => (recorder ? stopRecording() : startRecording()));
  $("explain-go").addEventListener("click", () => {
    if (state.file) classify(state.file, $("explain-class").value);
  });
  initCamPlayer();
  initPlayers();
  loadModel();
  initQuiz();

  // The page works without it; registration fails e.g. on plain http from another host.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
