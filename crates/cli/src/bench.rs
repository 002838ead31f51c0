//! `genre bench`: speed of decoding and feature extraction in x realtime (seconds of audio per
//! second), with 1 thread and all threads, on the same files the Python anchors use
//! (`benches/compare.py` runs both side by side).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use genre_audio::{load, LoadOptions};
use genre_features::core::{spectrogram, DbRef, StftParams};
use genre_features::feature::{logmel, mfcc_from_logmel, MelSpecParams};
use genre_features::gtzan::gtzan57;
use rayon::prelude::*;
use serde::Serialize;

use crate::inputs::expand;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Folder with clip30_22050_mono.{wav,flac,mp3,ogg} and song10_44100_stereo.wav
    /// (../shared/reference, or the audio/ folder made by ../shared/bench/features/gen_audio.py).
    #[arg(long, default_value = "../shared/reference")]
    pub reference: PathBuf,
    /// More files to time decode + resample to 22050 Hz mono (e.g. a 3 min 44.1 kHz stereo mp3).
    #[arg(long)]
    pub decode: Vec<PathBuf>,
    /// A folder of clips for batch throughput (load + log-mel + MFCC per clip).
    #[arg(long)]
    pub batch: Option<PathBuf>,
    /// Thread counts to measure (default: 1 and all cores).
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Minimum seconds of repetitions per case.
    #[arg(long, default_value_t = 1.0)]
    pub min_time: f64,
    /// Run only the cases whose name contains this text (e.g. "log-mel").
    #[arg(long)]
    pub only: Option<String>,
    /// Also write the results as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Serialize, Clone)]
struct Timing {
    audio_s: f64,
    median_s: f64,
    min_s: f64,
    n: usize,
    xrt: f64,
}

/// Median and minimum of repeated runs (2 warm-up runs, then >= 5 runs and >= `min_time`).
fn time(min_time: f64, audio_s: f64, f: &mut dyn FnMut() -> Result<()>) -> Result<Timing> {
    for _ in 0..2 {
        f()?;
    }
    let mut ts = Vec::new();
    let start = Instant::now();
    while ts.len() < 5 || (start.elapsed().as_secs_f64() < min_time && ts.len() < 1000) {
        let t = Instant::now();
        f()?;
        ts.push(t.elapsed().as_secs_f64());
    }
    ts.sort_by(f64::total_cmp);
    let median_s = ts[ts.len() / 2];
    Ok(Timing { audio_s, median_s, min_s: ts[0], n: ts.len(), xrt: audio_s / median_s })
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let all = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let threads = if args.threads.is_empty() {
        if all > 1 {
            vec![1, all]
        } else {
            vec![1]
        }
    } else {
        args.threads.clone()
    };
    let clip = |ext: &str| args.reference.join(format!("clip30_22050_mono.{ext}"));
    if !clip("wav").exists() {
        bail!("{} not found: pass --reference with the benchmark clips", clip("wav").display());
    }
    let y = load(&clip("wav"), LoadOptions::default())?.samples;
    let clip_s = y.len() as f64 / 22050.0;
    let mut results: BTreeMap<String, BTreeMap<usize, Timing>> = BTreeMap::new();
    let batch_files = match &args.batch {
        Some(dir) => expand(std::slice::from_ref(dir))?,
        None => Vec::new(),
    };
    for &n in &threads {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build()?;
        let want = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
        pool.install(|| -> Result<()> {
            let mut case = |name: String, audio_s: f64, f: &mut dyn FnMut() -> Result<()>| -> Result<()> {
                if !want(&name) {
                    return Ok(());
                }
                let t = time(args.min_time, audio_s, f)?;
                eprintln!("[{n}T] {name:<48} median {:>9.2} ms  x{:>7.0} RT", t.median_s * 1e3, t.xrt);
                results.entry(name).or_default().insert(n, t);
                Ok(())
            };
            for ext in ["wav", "flac", "mp3", "ogg"] {
                let p = clip(ext);
                if p.exists() {
                    case(format!("decode {ext} 30 s 22050 mono"), clip_s, &mut || load_only(&p))?;
                }
            }
            let mut decode = vec![args.reference.join("song10_44100_stereo.wav")];
            decode.extend(args.decode.iter().cloned());
            for p in decode.iter().filter(|p| p.exists()) {
                let secs = load(p, LoadOptions::default())?.samples.len() as f64 / 22050.0;
                let name =
                    format!("decode+resample {} -> 22050 mono", p.file_name().unwrap_or_default().to_string_lossy());
                case(name, secs, &mut || load_only(p))?;
            }
            let p = MelSpecParams::default();
            let lm = || logmel(&y, &p, DbRef::Value(1.0), Some(80.0));
            case("fft floor: rfft of every 2048-frame (1 thread)".into(), clip_s, &mut || Ok(fft_floor(&y)))?;
            case("stft power (2048/512)".into(), clip_s, &mut || {
                Ok(drop(spectrogram(&y, StftParams::default(), 2.0)?))
            })?;
            case("log-mel 128 + dB".into(), clip_s, &mut || Ok(drop(lm()?)))?;
            case("mfcc 20 (from log-mel)".into(), clip_s, &mut || Ok(drop(mfcc_from_logmel(&lm()?, 20))))?;
            case("gtzan57 (57 features)".into(), clip_s, &mut || Ok(drop(gtzan57(&y, 22050)?)))?;
            if !batch_files.is_empty() && want("batch") {
                let (t, secs) = batch(&batch_files, args.min_time)?;
                let name = format!(
                    "batch load+log-mel+mfcc, {} clips (clips/s = {:.1})",
                    batch_files.len(),
                    batch_files.len() as f64 / t.median_s
                );
                eprintln!("[{n}T] {name}: median {:.2} s", t.median_s);
                results.entry(name).or_default().insert(n, Timing { audio_s: secs, xrt: secs / t.median_s, ..t });
            }
            Ok(())
        })?;
    }
    print_table(&results, &threads);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?).with_context(|| path.display().to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The FFT-only floor, as the Python anchors measure it (scipy rfft of all frames): framing
/// plus real FFTs, no window, no power, no mel. Anything above this is our own overhead.
fn fft_floor(y: &[f32]) {
    let fft = realfft::RealFftPlanner::<f32>::new().plan_fft_forward(2048);
    let (mut input, mut out, mut scratch) = (fft.make_input_vec(), fft.make_output_vec(), fft.make_scratch_vec());
    let mut padded = vec![0.0f32; y.len() + 2048];
    padded[1024..1024 + y.len()].copy_from_slice(y);
    for t in 0..1 + y.len() / 512 {
        input.copy_from_slice(&padded[t * 512..t * 512 + 2048]);
        fft.process_with_scratch(&mut input, &mut out, &mut scratch).expect("fixed sizes");
    }
    std::hint::black_box(&out);
}

fn load_only(p: &Path) -> Result<()> {
    load(p, LoadOptions::default())?;
    Ok(())
}

/// One pass over a folder: every clip decoded, log-mel'd and MFCC'd; clips in parallel when the
/// pool has several threads.
fn batch(files: &[PathBuf], min_time: f64) -> Result<(Timing, f64)> {
    let p = MelSpecParams::default();
    let per_clip = |f: &PathBuf| -> Result<f64> {
        let y = load(f, LoadOptions::default())?.samples;
        let lm = logmel(&y, &p, DbRef::Value(1.0), Some(80.0))?;
        drop(mfcc_from_logmel(&lm, 20));
        Ok(y.len() as f64 / 22050.0)
    };
    let total: f64 = files
        .iter()
        .map(|f| load(f, LoadOptions::default()).map(|a| a.samples.len() as f64 / 22050.0))
        .sum::<Result<f64, _>>()?;
    let t = time(min_time, total, &mut || {
        if rayon::current_num_threads() == 1 {
            files.iter().map(per_clip).sum::<Result<f64>>()?;
        } else {
            files.par_iter().map(per_clip).sum::<Result<f64>>()?;
        }
        Ok(())
    })?;
    Ok((t, total))
}

fn print_table(results: &BTreeMap<String, BTreeMap<usize, Timing>>, threads: &[usize]) {
    let mut head = "| case | audio s |".to_string();
    let mut rule = "|---|---:|".to_string();
    for n in threads {
        head += &format!(" {n}T ms | {n}T x RT |");
        rule += "---:|---:|";
    }
    println!("{head}\n{rule}");
    for (name, by_n) in results {
        let audio = by_n.values().next().map(|t| t.audio_s).unwrap_or(0.0);
        let mut line = format!("| {name} | {audio:.1} |");
        for n in threads {
            match by_n.get(n) {
                Some(t) => line += &format!(" {:.2} | {:.0} |", t.median_s * 1e3, t.xrt),
                None => line += " - | - |",
            }
        }
        println!("{line}");
    }
}
