// genre web front end. Plain ES2020, no libraries, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const RECORD_SECONDS = 15;
const SCORE_KEY = "genre.quiz.score";
// Distinct colours for genres (index = position in `classes`); extra classes get a hue spiral.
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const colourOf = (i) => PALETTE[i] || `hsl(${(i * 137.5) % 360} 65% 50%)`;
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
    setError(e.message);
  } finally {
    setBusy(false);
  }
}

function setAudio(file) {
  if (state.audioUrl) URL.revokeObjectURL(state.audioUrl);
  state.audioUrl = URL.createObjectURL(file);
  $("player").src = state.audioUrl;
}

// ------------------------------------------------------------------ results

function render(r) {
  $("results").hidden = false;
  const top = r.top && r.top[0];
  const verdict = $("verdict");
  verdict.textContent = "";
  verdict.append("Genre: ");
  const strong = document.createElement("strong");
  strong.textContent = r.genre;
  verdict.append(strong, top ? ` (${pct(top[1])})` : "", ` - ${r.file || "audio"}, ${secs(r.duration)} s`);

  renderBars(r);
  renderTimeline(r);
  renderPicture(r);
  renderCurve(r);
  renderExplainSelect(r);
  updateCursor();
}

function renderBars(r) {
  const box = $("bars");
  box.textContent = "";
  const order = r.classes.map((c, i) => [c, r.probabilities[i] || 0])
    .sort((a, b) => b[1] - a[1]);
  order.forEach(([name, p], rank) => {
    const row = document.createElement("div");
    row.className = "bar-row" + (rank === 0 ? " top" : "");
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
    block.style.background = colourOf(gi);
    box.append(block);
    used.add(gi);
  }
  for (const gi of [...used].sort((a, b) => a - b)) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = colourOf(gi);
    li.append(sw, r.classes[gi] || "?");
    legend.append(li);
  }
}

function renderPicture(r) {
  const img = $("cam-picture");
  const pic = r.picture;
  $("cam-box").hidden = !pic;
  if (!pic) return;
  const cls = (r.cam && r.cam.class) || r.genre;
  img.alt = `Spectrogram of ${r.file || "the audio"} with the regions that mattered for "${cls}" highlighted`;
  img.width = pic.width;
  img.height = pic.height;
  img.src = pic.png;
}

// The CAM curve is drawn in a 1000x100 viewBox and aligned with the picture's plot area
// by giving the SVG the same left/right margins (in % of the picture width).
function renderCurve(r) {
  const svg = $("cam-curve");
  const vals = r.cam && Array.isArray(r.cam.seconds) ? r.cam.seconds : null;
  svg.hidden = !vals || vals.length === 0;
  if (svg.hidden) return;
  const n = vals.length;
  const pts = vals.map((v, i) => {
    const x = n === 1 ? 500 : (i / (n - 1)) * 1000;
    const y = 95 - Math.max(0, Math.min(1, v)) * 90;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  $("cam-line").setAttribute("points", pts.join(" "));
  svg.setAttribute("aria-label", `Importance per second for ${r.cam.class}, ${n} seconds`);
  const pic = r.picture;
  if (pic && pic.width > 0) {
    svg.style.marginLeft = `${(pic.plot_left / pic.width) * 100}%`;
    svg.style.width = `${((pic.plot_right - pic.plot_left) / pic.width) * 100}%`;
  } else {
    svg.style.marginLeft = "0";
    svg.style.width = "100%";
  }
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

// Picture x (in picture pixels) for a time, following the server's linear mapping.
function timeToPictureX(t, r) {
  const p = r.picture;
  const frac = r.duration > 0 ? Math.max(0, Math.min(1, t / r.duration)) : 0;
  return p.plot_left + frac * (p.plot_right - p.plot_left);
}

function updateCursor() {
  const r = state.result;
  if (!r || !r.picture) return;
  const img = $("cam-picture");
  const t = $("player").currentTime || 0;
  const scale = img.clientWidth / (r.picture.width || 1);
  $("cam-cursor").style.left = `${(timeToPictureX(t, r) * scale).toFixed(1)}px`;
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
  $("cam-picture").addEventListener("load", updateCursor);
  window.addEventListener("resize", updateCursor);

  const box = $("cam-box");
  box.addEventListener("click", (e) => {
    const r = state.result;
    if (!r || !r.picture) return;
    const rect = $("cam-picture").getBoundingClientRect();
    if (rect.width === 0) return;
    const px = ((e.clientX - rect.left) / rect.width) * r.picture.width; // picture pixels
    const span = r.picture.plot_right - r.picture.plot_left;
    if (span <= 0) return;
    seekTo(((px - r.picture.plot_left) / span) * r.duration);
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
    const list = $("model-classes");
    list.textContent = "";
    for (const c of m.classes || []) {
      const li = document.createElement("li");
      li.textContent = c;
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
  loadModel();
  initQuiz();

  // The page works without it; registration fails e.g. on plain http from another host.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
