//! Seeded mutation fuzzing of every parser of outside bytes, on stable Rust.
//!
//! `cargo fuzz` and AFL need nightly or system packages this project does not assume, so this
//! is a plain, reproducible fuzzer: each target starts from valid seed inputs (made here, so the
//! corpus cannot go stale), mutates them (bit flips, interesting integers at header offsets,
//! insertions, deletions, truncations, splices of two inputs) with a seeded generator, and runs
//! each input in-process. A panic, an input slower than the hang limit, or memory beyond the
//! limit is a finding; errors returned as values are the expected outcome for bad bytes.
//!
//! `corpus/TARGET/` holds the inputs that once broke something or were built to (a header
//! claiming 4 GB, a card with a zero hop): they run first on every pass, as regression tests.

mod serve_net;
mod upload;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One parser of outside bytes.
pub struct Target {
    pub name: &'static str,
    /// Valid inputs to start from.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Feed the bytes to the parser (through a file in `dir` where the parser reads files).
    pub run: fn(&[u8], &Path),
}

pub fn targets() -> Vec<Target> {
    vec![
        Target { name: "wav", seeds: seeds::wav, run: run::decode_wav },
        Target { name: "decode", seeds: seeds::audio, run: run::decode_any },
        Target { name: "manifest", seeds: seeds::manifest, run: run::manifest },
        Target { name: "feature-table", seeds: seeds::table, run: run::table },
        Target { name: "model-card", seeds: seeds::card, run: run::card },
        Target { name: "npy", seeds: seeds::npy, run: run::npy },
        Target { name: "weights", seeds: seeds::weights, run: run::weights },
        Target { name: "upload", seeds: seeds::upload, run: upload::run },
        Target { name: "serve-net", seeds: seeds::serve_net, run: serve_net::run },
    ]
}

/// What a fuzzing pass found.
#[derive(Debug, Default)]
pub struct Report {
    pub executions: u64,
    pub panics: Vec<String>,
    /// The first few inputs that panicked, were too slow or too hungry, to save and replay.
    pub crashes: Vec<Vec<u8>>,
    pub slow: Vec<(f64, usize)>,
    pub slowest_secs: f64,
    /// Inputs after which the process's peak RSS first passed the memory limit: (MB, bytes).
    pub hungry: Vec<(u64, usize)>,
    pub peak_rss_mb: u64,
}

/// The process's peak resident memory so far, in MB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM"))?.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Fuzz `t` for `budget` (time) or `max_execs` inputs, whichever ends first. An input slower
/// than `hang`, or after which peak RSS first passes `mem_mb`, is a finding.
pub fn fuzz(t: &Target, seed: u64, budget: Duration, max_execs: u64, hang: Duration, mem_mb: u64) -> Report {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut corpus = (t.seeds)();
    corpus.extend(kept_inputs(t.name));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut report = Report::default();
    let start = Instant::now();
    // The seeds themselves first, then mutants.
    let mut i = 0usize;
    while start.elapsed() < budget && report.executions < max_execs {
        let input = if i < corpus.len() {
            corpus[i].clone()
        } else {
            let a = &corpus[rng.gen_range(0..corpus.len())];
            let b = &corpus[rng.gen_range(0..corpus.len())];
            mutate(a, b, &mut rng)
        };
        i += 1;
        let t0 = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (t.run)(&input, dir.path())));
        let secs = t0.elapsed().as_secs_f64();
        report.slowest_secs = report.slowest_secs.max(secs);
        let slow = secs > hang.as_secs_f64();
        let rss = peak_rss_mb();
        let hungry = rss > mem_mb && report.peak_rss_mb <= mem_mb;
        report.peak_rss_mb = rss;
        if hungry {
            report.hungry.push((rss, input.len()));
        }
        if r.is_err() {
            report.panics.push(format!("input #{i} ({} bytes): {}", input.len(), hex_head(&input)));
        }
        if slow {
            report.slow.push((secs, input.len()));
        }
        if (r.is_err() || slow || hungry) && report.crashes.len() < 20 {
            report.crashes.push(input);
        }
        report.executions += 1;
    }
    report
}

/// The committed corpus of `target`: `corpus/TARGET/*`, sorted by name.
pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target)
}

fn kept_inputs(target: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir(target))
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn hex_head(b: &[u8]) -> String {
    b.iter().take(48).map(|x| format!("{x:02x}")).collect()
}

/// One mutation (or a few) of `a`, sometimes spliced with `b`.
pub fn mutate(a: &[u8], b: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut x = a.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let n = x.len();
        match rng.gen_range(0..8) {
            0 if n > 0 => {
                let i = rng.gen_range(0..n);
                x[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if n > 0 => {
                let i = rng.gen_range(0..n);
                x[i] = rng.gen();
            }
            2 if n >= 4 => {
                // An interesting integer over a (likely header) field.
                let v: u32 = [0, 1, 2, 0x7f, 0xff, 0xffff, 0x7fff_ffff, u32::MAX, 44100, 8, 16][rng.gen_range(0..11)];
                let i = rng.gen_range(0..n.min(128).saturating_sub(3).max(1));
                x[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            3 => {
                let i = rng.gen_range(0..=n);
                let k = rng.gen_range(1..64);
                let fill: u8 = rng.gen();
                x.splice(i..i, std::iter::repeat_n(fill, k));
            }
            4 if n > 1 => {
                let i = rng.gen_range(0..n);
                let k = rng.gen_range(1..=(n - i).min(256));
                x.drain(i..i + k);
            }
            5 if n > 1 => x.truncate(rng.gen_range(0..n)),
            6 if !b.is_empty() => {
                let i = rng.gen_range(0..=n);
                let j = rng.gen_range(0..b.len());
                let k = rng.gen_range(1..=(b.len() - j).min(512));
                x.splice(i..i, b[j..j + k].iter().copied());
            }
            _ if n > 0 => {
                // Text formats: a character that means something to them.
                let i = rng.gen_range(0..n);
                x[i] = b",|\n\"{}[]:-.0eE9 \0"[rng.gen_range(0..17)];
            }
            _ => x.push(rng.gen()),
        }
    }
    x
}

mod seeds {
    use genre_audio::synth::genre_clip;

    fn file(write: impl FnOnce(&std::path::Path)) -> Vec<u8> {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("f");
        write(&p);
        std::fs::read(p).expect("seed written")
    }

    pub fn wav() -> Vec<Vec<u8>> {
        [(0, 8000), (1, 22050), (3, 44100)]
            .into_iter()
            .map(|(g, sr)| {
                file(|p| genre_audio::wav::write_wav_mono16(p, &genre_clip(g, 0.3, sr, 1), sr).expect("wav"))
            })
            .collect()
    }

    /// WAV seeds plus the project's compressed reference clips when `../shared` is there.
    pub fn audio() -> Vec<Vec<u8>> {
        let mut v = wav();
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference");
        for ext in ["flac", "mp3", "ogg"] {
            if let Ok(b) = std::fs::read(shared.join(format!("clip30_22050_mono.{ext}"))) {
                v.push(b[..b.len().min(64 << 10)].to_vec()); // the head: headers and first frames
            }
        }
        v
    }

    pub fn manifest() -> Vec<Vec<u8>> {
        let mut v = vec![
            b"path,labels,group\na.wav,rock,x\nb.wav,jazz|rock,y\n".to_vec(),
            b"path,labels\na.wav,pop\n".to_vec(),
        ];
        // Long labels and lines around the stated caps (100 characters a label, 64 KiB a line),
        // many labels on a row, many rows: the byte mutations alone grow an input by at most
        // 64 bytes at a time and would never reach them.
        let row = |label: String| format!("path,labels\na.wav,{label}\nb.wav,pop\n").into_bytes();
        v.push(row("x".repeat(100)));
        v.push(row("é".repeat(101)));
        v.push(row((0..5000).map(|i| format!("t{i}")).collect::<Vec<_>>().join("|")));
        v.push(row("y".repeat(70 << 10)));
        v.push(format!("path,labels\n{}", "a.wav,rock\nb.wav,jazz\n".repeat(20_000)).into_bytes());
        v
    }

    pub fn table() -> Vec<Vec<u8>> {
        vec![b"filename,length,f1,f2,label\na.wav,661794,0.5,1e-3,blues\nb.wav,661794,-2,3,jazz\n".to_vec()]
    }

    pub fn card() -> Vec<Vec<u8>> {
        let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        ["gtzan57", "musicnn-head"]
            .iter()
            .filter_map(|m| std::fs::read(models.join(m).join("model.json")).ok())
            .collect()
    }

    pub fn npy() -> Vec<Vec<u8>> {
        vec![file(|p| genre_report::npy::write_npy(p, &[3, 4], &[0.5; 12]).expect("npy"))]
    }

    /// Forms carrying each audio seed, the same audio as a raw body, and a form with no file.
    pub fn upload() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = Vec::new();
        for (i, a) in audio().iter().enumerate() {
            v.push(crate::upload::form(&format!("clip{i}.wav"), a));
            let mut raw = b"audio/wav\nclass=b\n".to_vec();
            raw.extend_from_slice(a);
            v.push(raw);
        }
        v.push(b"multipart/form-data; boundary=XyZ\n\n--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhi\r\n--XyZ--\r\n".to_vec());
        v
    }

    /// Request scripts against the server on loopback, carrying a small WAV.
    pub fn serve_net() -> Vec<Vec<u8>> {
        crate::serve_net::seeds(&wav()[1])
    }

    pub fn weights() -> Vec<Vec<u8>> {
        let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        vec![std::fs::read(models.join("gtzan57/model.safetensors")).expect("committed model")]
    }
}

mod run {
    use std::path::Path;

    fn write(dir: &Path, name: &str, b: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, b).expect("temp file");
        p
    }

    pub fn decode_wav(b: &[u8], dir: &Path) {
        let _ = genre_audio::load(&write(dir, "x.wav", b), genre_audio::LoadOptions::default());
    }

    pub fn decode_any(b: &[u8], dir: &Path) {
        // Each extension steers the decoder's probe differently.
        for ext in ["flac", "mp3", "ogg", "bin"] {
            let _ = genre_audio::load(&write(dir, &format!("x.{ext}"), b), genre_audio::LoadOptions::default());
        }
    }

    pub fn manifest(b: &[u8], dir: &Path) {
        std::fs::write(dir.join("a.wav"), b"").expect("temp file");
        std::fs::write(dir.join("b.wav"), b"").expect("temp file");
        let _ = genre_data::Dataset::open(&write(dir, "m.csv", b));
    }

    pub fn table(b: &[u8], dir: &Path) {
        let _ = genre_data::Dataset::open(&write(dir, "t.csv", b));
    }

    pub fn card(b: &[u8], _dir: &Path) {
        if let Ok(text) = std::str::from_utf8(b) {
            if let Ok(card) = genre_model::ModelCard::from_json(text) {
                // A card that loads must also pass the pipeline's checks or be refused by them;
                // the network is built from its (validated) shape.
                let net = genre_model::Net::new(&card.arch, &genre_model::device::base());
                let _ = genre_pipeline::Classifier::from_parts(card, net);
            }
        }
    }

    pub fn npy(b: &[u8], dir: &Path) {
        let _ = genre_report::npy::read_npy(&write(dir, "x.npy", b));
    }

    pub fn weights(b: &[u8], _dir: &Path) {
        let card = genre_model::ModelCard::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gtzan57/model.json"),
        )
        .expect("committed card");
        let _ = genre_model::Net::load_bytes(&card.arch, b, &genre_model::device::base());
    }
}
