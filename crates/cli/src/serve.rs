//! `genre serve`: the model behind an HTTP API and a web app (see genre-server).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use genre_pipeline::Predictor;
use genre_server::Options;

/// Examples:
///   genre serve                                   (http://127.0.0.1:8080/, the built-in model)
///   genre serve --model runs/cnn --quiz music/    (a quiz over music/<genre>/ clips)
///   genre serve --addr 0.0.0.0:8080               (reachable from other machines: think first)
/// API: POST /api/predict (multipart 'file' or raw audio body; ?class=NAME explains that genre),
/// GET /api/model, GET /healthz, GET /api/quiz/next, GET /api/quiz/clip/ID, POST /api/quiz/answer.
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// A run folder, model.json or ensemble folder (default: the built-in model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Largest upload, in MB (larger ones get 413).
    #[arg(long, default_value_t = 50)]
    pub max_upload_mb: usize,
    /// Analyses at once (each uses the cores through the model) and requests allowed to wait.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    #[arg(long, default_value_t = 32)]
    pub queue: usize,
    /// Seconds a request may take, waiting included (then 503).
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// A genre folder (one sub-folder per genre) whose clips the quiz plays.
    #[arg(long)]
    pub quiz: Option<PathBuf>,
    /// Where uploads are kept while analysed (a private folder in it, removed on exit).
    #[arg(long)]
    pub tmp: Option<PathBuf>,
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let model = Predictor::load(a.model.as_deref())?;
    let name = a.model.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "built-in default".into());
    let opts = Options {
        addr: a.addr,
        max_upload: a.max_upload_mb << 20,
        workers: a.workers.max(1),
        queue: a.queue,
        timeout: Duration::from_secs(a.timeout.max(1)),
        tmp: a.tmp.clone().unwrap_or_else(std::env::temp_dir),
        quiz: a.quiz.clone(),
    };
    // main() restores the default SIGPIPE for pipelines; a server must not die when a client
    // resets mid-answer: ignored, a write to a closed socket is that connection's error.
    #[cfg(unix)]
    // SAFETY: set before the runtime starts any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(genre_server::serve(model, name, opts)).context("genre serve")?;
    Ok(ExitCode::SUCCESS)
}
