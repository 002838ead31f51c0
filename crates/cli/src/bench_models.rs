//! `genre bench models`: the speed of every model family, a training step at batch 32 and
//! inference at batch 1 and 64, beside its PyTorch twin (`benches/models/torch_twins.py`, same
//! network, input and optimizer) in the same run.
//!
//! Each case runs in a process of its own (this binary again, with the hidden `--one`): the
//! peak RSS is then the case's own, and the thread count is fixed before any pool starts.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use burn::prelude::*;
use burn::tensor::Distribution;
use clap::Args;
use genre_model::arch::{ArchConfig, Family};
use genre_model::device;
use genre_model::musicnn::Variant;
use genre_model::net::Net;
use genre_model::train::{self, Batch, TrainOptions};
use serde::{Deserialize, Serialize};

use crate::bench::repeat;

const MODELS: [&str; 7] = ["cnn", "resnet", "crnn", "lstm", "features", "musicnn", "musicnn-finetune"];
const CASES: [&str; 3] = ["train_b32", "infer_b1", "infer_b64"];
const CLASSES: usize = 10;

#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// Families to time: cnn, resnet, crnn, lstm, features, musicnn (a head on the frozen
    /// embedding), musicnn-finetune (mid-end and back-end trained too). Default: all.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// Cases: train_b32 (one AdamW step: forward, loss, backward, update), infer_b1, infer_b64.
    /// Default: all.
    #[arg(long, value_delimiter = ',')]
    pub cases: Vec<String>,
    /// Thread counts (default: 1 and all cores).
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// A Python with torch: also time each case's PyTorch twin, and print the ratio.
    #[arg(long)]
    pub torch: Option<PathBuf>,
    /// The PyTorch twins.
    #[arg(long, default_value = "benches/models/torch_twins.py")]
    pub torch_script: PathBuf,
    /// Minimum seconds of timed repetitions per case (after 3 warm-up runs).
    #[arg(long, default_value_t = 2.0)]
    pub min_time: f64,
    /// One JSON object per line instead of the table: {"model", "case", "threads", "ms",
    /// "ms_min", "rss_mb", "torch_ms", ...}.
    #[arg(long)]
    pub json: bool,
    /// Internal: run the one case named by --models/--cases/--threads in this process.
    #[arg(long, hide = true)]
    pub one: bool,
}

/// What one case measured (also the line a `--one` child and a twin print).
#[derive(Serialize, Deserialize, Debug, Clone)]
struct Measured {
    ms: f64,
    ms_min: f64,
    n: usize,
    rss_mb: Option<f64>,
    params: usize,
}

#[derive(Serialize)]
struct Row<'a> {
    model: &'a str,
    case: &'a str,
    threads: usize,
    ms: f64,
    ms_min: f64,
    rss_mb: Option<f64>,
    params: usize,
    torch_ms: Option<f64>,
    torch_ms_min: Option<f64>,
    torch_rss_mb: Option<f64>,
    /// ms / torch_ms: below 1 is faster than PyTorch.
    ratio: Option<f64>,
}

pub fn run(args: ModelsArgs) -> Result<ExitCode> {
    let models = chosen(&args.models, &MODELS, "model")?;
    let cases = chosen(&args.cases, &CASES, "case")?;
    if args.one {
        let (&[model], &[case], &[threads]) = (&models[..], &cases[..], &args.threads[..]) else {
            bail!("--one runs exactly one model, case and thread count");
        };
        let m = run_case(model, case, threads, args.min_time)?;
        println!("{}", serde_json::to_string(&m)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(py) = &args.torch {
        if !args.torch_script.is_file() {
            bail!(
                "{}: the PyTorch twins are not there (run from the project root, or pass --torch-script)",
                args.torch_script.display()
            );
        }
        eprintln!("PyTorch twins: {} {}", py.display(), args.torch_script.display());
    }
    let all = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let threads = if !args.threads.is_empty() {
        args.threads.clone()
    } else if all > 1 {
        vec![1, all]
    } else {
        vec![1]
    };
    if !args.json {
        println!("| model | case | threads | genre ms (min) | PyTorch ms (min) | genre / PyTorch | genre RSS MB | PyTorch RSS MB |");
        println!("|---|---|---:|---:|---:|---:|---:|---:|");
    }
    let mut failed = 0;
    let total = models.len() * cases.len() * threads.len();
    let mut done = 0;
    for &model in &models {
        for &case in &cases {
            for &n in &threads {
                done += 1;
                // A case can take half a minute (8 crnn steps of ~2 s, twice with --torch): say
                // which one is running.
                eprintln!("[{done}/{total}] {model} {case}, {n} thread(s)...");
                match measure_both(&args, model, case, n) {
                    Ok((ours, theirs)) => print_row(&args, model, case, n, &ours, theirs.as_ref())?,
                    Err(e) => {
                        failed += 1;
                        eprintln!("error: {model} {case} {n} threads: {e:#}");
                    }
                }
            }
        }
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn chosen<'a>(given: &'a [String], all: &[&'static str], what: &str) -> Result<Vec<&'a str>> {
    if given.is_empty() {
        // The full list, borrowed from the constant (which outlives any 'a).
        return Ok(all.to_vec());
    }
    for g in given {
        if !all.contains(&g.as_str()) {
            bail!("unknown {what} '{g}' (one of {})", all.join(", "));
        }
    }
    Ok(given.iter().map(String::as_str).collect())
}

fn measure_both(args: &ModelsArgs, model: &str, case: &str, n: usize) -> Result<(Measured, Option<Measured>)> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut ours = Command::new(exe);
    ours.args(["bench", "models", "--one", "--models", model, "--cases", case])
        .args(["--threads", &n.to_string(), "--min-time", &args.min_time.to_string()])
        .env("RAYON_NUM_THREADS", n.to_string());
    let ours = child_line(ours, "genre")?;
    let theirs = match &args.torch {
        Some(py) => {
            let mut c = Command::new(py);
            c.arg(&args.torch_script)
                .args(["--model", model, "--case", case, "--threads", &n.to_string()])
                .args(["--min-time", &args.min_time.to_string()]);
            let t = child_line(c, "the PyTorch twin")?;
            if t.params != ours.params {
                eprintln!(
                    "warning: {model}: the PyTorch twin has {} parameters, genre's network {}: not the same network",
                    t.params, ours.params
                );
            }
            Some(t)
        }
        None => None,
    };
    Ok((ours, theirs))
}

/// Run a child and read the JSON line it ends its output with.
fn child_line(mut c: Command, who: &str) -> Result<Measured> {
    let out = c.output().with_context(|| format!("starting {who}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        bail!("{who} failed ({}): {}", out.status, why.trim().lines().last().unwrap_or(""));
    }
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).with_context(|| format!("{who} printed no result"))?;
    serde_json::from_str(line).with_context(|| format!("{who} printed {line}"))
}

fn print_row(args: &ModelsArgs, model: &str, case: &str, n: usize, g: &Measured, t: Option<&Measured>) -> Result<()> {
    let row = Row {
        model,
        case,
        threads: n,
        ms: g.ms,
        ms_min: g.ms_min,
        rss_mb: g.rss_mb,
        params: g.params,
        torch_ms: t.map(|t| t.ms),
        torch_ms_min: t.map(|t| t.ms_min),
        torch_rss_mb: t.and_then(|t| t.rss_mb),
        ratio: t.map(|t| g.ms / t.ms),
    };
    let line = if args.json {
        serde_json::to_string(&row)?
    } else {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        format!(
            "| {model} | {case} | {n} | {} ({}) | {} | {} | {} | {} |",
            ms(g.ms),
            ms(g.ms_min),
            opt(t.map(|t| format!("{} ({})", ms(t.ms), ms(t.ms_min)))),
            opt(row.ratio.map(|r| format!("{r:.2}x"))),
            opt(g.rss_mb.map(|r| format!("{r:.0}"))),
            opt(t.and_then(|t| t.rss_mb).map(|r| format!("{r:.0}"))),
        )
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// Milliseconds with three significant digits or more (a head's step takes microseconds).
fn ms(v: f64) -> String {
    let decimals = if v >= 10.0 { 1 } else { (2.0 - v.abs().max(1e-6).log10().floor()).clamp(2.0, 6.0) as usize };
    format!("{v:.decimals$}")
}

/// The architecture and input shape `[rows, cols]` each family trains on by default
/// (`genre train`'s 3 s windows: 128 mel bands or 20 MFCC x 130 frames; the 57 GTZAN
/// features; musicnn's 200-d embedding, or its 561-channel front-end output over 187 frames).
fn arch_of(model: &str) -> ArchConfig {
    let a = |family, rows, cols| ArchConfig::new(family, rows, cols, CLASSES);
    match model {
        "cnn" => a(Family::Cnn, 128, 130),
        "resnet" => a(Family::Resnet, 128, 130),
        "crnn" => a(Family::Crnn, 128, 130),
        "lstm" => a(Family::Lstm, 20, 130),
        "features" => a(Family::Features, 57, 1),
        "musicnn" => ArchConfig { backbone: Some(Variant::Msd), ..a(Family::Musicnn, 200, 1) },
        _ => ArchConfig { backbone: Some(Variant::Msd), finetune: true, ..a(Family::Musicnn, 561, 187) },
    }
}

/// One case, in this process: median and minimum milliseconds, peak RSS.
fn run_case(model: &str, case: &str, threads: usize, min_time: f64) -> Result<Measured> {
    if rayon::current_num_threads() != threads {
        eprintln!("note: asked for {threads} threads, rayon has {} (RAYON_NUM_THREADS)", rayon::current_num_threads());
    }
    let arch = arch_of(model);
    let batch = match case {
        "train_b32" => 32,
        "infer_b1" => 1,
        _ => 64,
    };
    let shape = [batch, arch.rows, arch.cols];
    let y: Vec<f32> =
        (0..batch * CLASSES).map(|i| f32::from(u8::from(i % CLASSES == (i / CLASSES) % CLASSES))).collect();
    let (times, params) = if case == "train_b32" {
        let d = device::training();
        d.seed(0);
        let x = random(shape, &d);
        let net = Net::new(&arch, &d);
        let params = net.num_params();
        let mut optim = train::optimizer(&TrainOptions::default());
        let weights = Tensor::<1>::ones([CLASSES], &d);
        let mut net = Some(net);
        let times = repeat(3, min_time, &mut || {
            let batch = Batch { x: x.clone(), y: &y, shape };
            let (next, loss, _) = train::step(net.take().expect("put back"), &mut optim, batch, &weights, false, 1e-3);
            net = Some(next);
            if !loss.is_finite() {
                bail!("the loss is {loss}");
            }
            Ok(())
        })?;
        (times, params)
    } else {
        let d = device::base();
        d.seed(0);
        let x = random(shape, &d);
        let net = Net::new(&arch, &d);
        let times = repeat(3, min_time, &mut || {
            std::hint::black_box(train::probabilities(&net, x.clone(), shape, false, &d));
            Ok(())
        })?;
        (times, net.num_params())
    };
    Ok(Measured {
        ms: times[times.len() / 2] * 1e3,
        ms_min: times[0] * 1e3,
        n: times.len(),
        rss_mb: peak_rss_mb(),
        params,
    })
}

fn random(shape: [usize; 3], d: &Device) -> Vec<f32> {
    Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), d).into_data().try_to_vec::<f32>().expect("f32 tensor")
}

/// Peak resident set of this process (Linux reports kilobytes).
fn peak_rss_mb() -> Option<f64> {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let u = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        (libc::getrusage(libc::RUSAGE_SELF, &mut u) == 0).then_some(u)
    };
    u.map(|u| u.ru_maxrss as f64 / 1024.0)
}
