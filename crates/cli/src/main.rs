//! `genre`: the command-line program. A thin layer: it parses arguments and hands each command
//! to its module; the work lives in the library crates.

mod batch;
mod bench;
mod bench_models;
mod embed;
mod explain;
mod features;
mod judge;
mod learn;
mod progress;
mod scan;
mod serve;
mod tag;
mod tell;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Music genre classification in one program: decode audio, extract librosa-compatible
/// features, train and evaluate models, predict genres.
#[derive(Parser)]
#[command(name = "genre", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Extract features (log-mel, MFCC, STFT, chroma, GTZAN-57) from audio files or folders.
    Features(features::FeaturesArgs),
    /// Train a model (cnn, resnet, lstm, crnn, features, or a head on pre-trained musicnn) on a genre folder, manifest or feature table.
    Train(learn::TrainArgs),
    /// Score a trained model: segment/track accuracy, per-genre P/R/F1, confusion matrix.
    Eval(judge::EvalArgs),
    /// Name the genre of audio files (default model built in), with a per-window timeline.
    Predict(tell::PredictArgs),
    /// Why the model decided: Grad-CAM mapped to seconds, as a picture and JSON.
    Explain(explain::ExplainArgs),
    /// Serve the model over HTTP with the web app (upload or record, genres, CAM player, quiz).
    Serve(serve::ServeArgs),
    /// Tag music with the pre-trained musicnn network (50 Last.fm or MagnaTagATune tags), per file or over time.
    Tag(tag::TagArgs),
    /// Embeddings of the pre-trained musicnn network, per window or per file, as .npy or .csv.
    Embed(embed::EmbedArgs),
    /// Tag a whole music library into SQLite (resumable, sharded), optionally writing genres into the files' tags.
    Scan(scan::ScanArgs),
    /// Measure speed: decoding, features and musicnn (x realtime, 1 thread and all threads); `bench models`: training and inference of every family beside PyTorch.
    Bench(bench::BenchArgs),
    /// Write a synthetic genre data set (one folder per genre of generated WAV clips) for demos and tests.
    Synth(SynthArgs),
}

#[derive(clap::Args)]
struct SynthArgs {
    /// Output folder (created).
    out: std::path::PathBuf,
    /// Number of genres (at most 6).
    #[arg(long, default_value_t = 6)]
    classes: usize,
    #[arg(long, default_value_t = 10)]
    per_class: usize,
    /// Seconds per clip.
    #[arg(long, default_value_t = 6.0)]
    secs: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Keep freed memory for reuse instead of handing it back to the kernel at once. burn allocates
/// and frees tensors of tens of MB for every operation of a training step; glibc serves blocks
/// that large with mmap and unmaps them on free, so the next one faults in fresh zeroed pages.
/// Measured (`genre bench models --models cnn --cases train_b32 --threads 1`): 1.2 M minor page
/// faults -> 0.09 M, a step 1244 -> 850 ms, peak RSS unchanged (355 -> 345 MB).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread starts.
    unsafe {
        // 1 GiB: every tensor of these models stays on the heap (mallopt refuses more than
        // glibc's own limit; then 32 MiB, its largest dynamic threshold, still covers most).
        if libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30) == 0 {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        }
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

fn main() -> ExitCode {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`genre predict music/ | head -1`) instead of failing on the broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Features(a) => features::run(a),
        Command::Train(a) => learn::run(a),
        Command::Eval(a) => judge::run(a),
        Command::Predict(a) => tell::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Tag(a) => tag::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Embed(a) => embed::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Synth(a) => {
            genre_audio::synth::write_genre_folder(&a.out, a.classes, a.per_class, a.secs, 22050, a.seed)
                .map(|files| {
                    eprintln!("{} clips written to {}", files.len(), a.out.display());
                    ExitCode::SUCCESS
                })
                .map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
