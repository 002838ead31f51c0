//! `genre`: the command-line program. A thin layer: it parses arguments and hands each command
//! to its module; the work lives in the library crates.

mod bench;
mod features;
mod inputs;
mod progress;

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
    /// Measure decoding and feature extraction speed (x realtime, 1 thread and all threads).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Features(a) => features::run(a),
        Command::Bench(a) => bench::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
