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

use genre_pipeline::inputs::expand;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: Option<BenchWhat>,
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
    /// Python of a venv with tensorflow-cpu: also time the TensorFlow original of musicnn in the
    /// same run (needs --musicnn-pkg), for the speed ratio.
    #[arg(long)]
    pub tf_python: Option<PathBuf>,
    /// The unpacked musicnn wheel's `musicnn/` folder (pip download --no-deps musicnn==0.1.0).
    #[arg(long)]
    pub musicnn_pkg: Option<PathBuf>,
    /// The TensorFlow timing script.
    #[arg(long, default_value = "../shared/bench/musicnn/time_tf.py")]
    pub tf_script: PathBuf,
    /// Also write the results as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
pub enum BenchWhat {
    /// Training step (batch 32) and inference (batch 1 and 64) of every model family, 1 thread and
    /// all threads, with peak memory; with --torch, beside each family's PyTorch twin.
    Models(crate::bench_models::ModelsArgs),
}

#[derive(Serialize, Clone)]
struct Timing {
    audio_s: f64,
    median_s: f64,
    min_s: f64,
    n: usize,
    xrt: f64,
}

/// Seconds of repeated runs, sorted: `warmup` untimed runs, then >= 5 runs and >= `min_time`
/// (at most 1000).
pub fn repeat(warmup: usize, min_time: f64, f: &mut dyn FnMut() -> Result<()>) -> Result<Vec<f64>> {
    for _ in 0..warmup {
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
    Ok(ts)
}

/// Median and minimum of repeated runs (2 warm-up runs).
fn time(min_time: f64, audio_s: f64, f: &mut dyn FnMut() -> Result<()>) -> Result<Timing> {
    let ts = repeat(2, min_time, f)?;
    let median_s = ts[ts.len() / 2];
    Ok(Timing { audio_s, median_s, min_s: ts[0], n: ts.len(), xrt: audio_s / median_s })
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if let Some(BenchWhat::Models(m)) = args.what {
        return crate::bench_models::run(m);
    }
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
        Some(dir) => expand(std::slice::from_ref(dir)).files,
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
            musicnn_cases(&y, &mut case)?;
            if let (Some(py), Some(pkg)) = (&args.tf_python, &args.musicnn_pkg) {
                if want("musicnn") {
                    tensorflow_musicnn(py, &args.tf_script, pkg, &y, n)?;
                }
            }
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

/// Multiply-adds of one musicnn window, counted from its layers: timbral 7x38 and 7x67 (204
/// filters over 59 and 30 mel positions), temporal 128/64/32 x 1 (51 filters over 96 bands),
/// mid-end 7 x 561 -> 64 and twice 7 x 64 -> 64, dense 1506 -> 200 -> 50; 187 frames.
const MUSICNN_FLOP: f64 = 2.0
    * (187.0 * (59.0 * 204.0 * 7.0 * 38.0 + 30.0 * 204.0 * 7.0 * 67.0 + 96.0 * 51.0 * (128.0 + 64.0 + 32.0))
        + 187.0 * 64.0 * 7.0 * (561.0 + 64.0 + 64.0)
        + 1506.0 * 200.0
        + 200.0 * 50.0);

type Case<'a> = dyn FnMut(String, f64, &mut dyn FnMut() -> Result<()>) -> Result<()> + 'a;

/// musicnn (MSD) inference from log-mel windows, at batch 1 and 16; the front end (16 kHz
/// resample + log-mel) is timed apart.
fn musicnn_cases(y: &[f32], case: &mut Case) -> Result<()> {
    use burn::prelude::*;
    use genre_model::musicnn::{Layer, Musicnn, Variant, FRAMES, N_MELS};
    let d = genre_model::device::base();
    let net = Musicnn::pretrained(Variant::Msd, &d)?;
    let win = 187.0 * 256.0 / 16000.0;
    eprintln!("musicnn: {:.2} GFLOP per 3 s window (counted from its layers)", MUSICNN_FLOP / 1e9);
    for b in [1usize, 16] {
        let x: Vec<f32> = (0..b * N_MELS * FRAMES).map(|i| y[i % y.len()].abs() * 3.0).collect();
        let name = format!("musicnn msd inference, batch {b} (ms/window = median/{b})");
        case(name, win * b as f64, &mut || {
            let t = Tensor::<3>::from_data(TensorData::new(x.clone(), [b, N_MELS, FRAMES]), &d);
            Ok(drop(net.embed(t, Layer::Taggram).into_data()))
        })?;
    }
    Ok(())
}

/// The TensorFlow original on the same machine, same thread count (its own timing script).
fn tensorflow_musicnn(py: &Path, script: &Path, pkg: &Path, y: &[f32], threads: usize) -> Result<()> {
    use genre_data::FeatureSpec;
    // Its input: 10 windows of our musicnn log-mel of the clip, as [frames, 96] .npy.
    let spec = FeatureSpec::musicnn(187.0 * 256.0 / 16000.0);
    let y16 = genre_audio::resample::resample(y, 22050, 16000)?;
    let (len, hop) = spec.windowing().samples(16000);
    let mut frames = Vec::new();
    for s in genre_audio::window::window_starts(y16.len(), len, hop) {
        let m = spec.extract(&spec.window(&y16, s))?;
        for t in 0..187 {
            frames.extend((0..96).map(|k| m[k * 187 + t]));
        }
    }
    let tmp = std::env::temp_dir().join(format!("genre-bench-logmel-{}.npy", std::process::id()));
    genre_report::npy::write_npy(&tmp, &[frames.len() / 96, 96], &frames)?;
    let out = std::process::Command::new(py).arg(script).arg(pkg).arg(&tmp).arg(threads.to_string()).output();
    let _ = std::fs::remove_file(&tmp);
    let out = out.with_context(|| format!("running {}", py.display()))?;
    for line in String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with("tensorflow")) {
        let per_window: f64 = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("per_window_ms="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        eprintln!("[{threads}T] {line}  ({:.1} GFLOP/s)", MUSICNN_FLOP / 1e9 / (per_window / 1e3));
    }
    if !out.status.success() {
        bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or(""));
    }
    Ok(())
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
