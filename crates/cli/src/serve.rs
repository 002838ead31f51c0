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
    /// Seconds a request may take, upload and waiting included (then 503).
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Connections served at once (more wait until one closes).
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
    /// Seconds a client may stay silent while sending headers or a body (then closed, or 408).
    #[arg(long, default_value_t = 30)]
    pub read_timeout: u64,
    /// On Ctrl-C or SIGTERM, seconds in-flight requests may take to finish before they are
    /// cancelled; the private temporary folder is removed either way and the exit code is 0.
    #[arg(long, default_value_t = 10)]
    pub grace: u64,
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
        max_connections: a.max_connections.max(1),
        read_timeout: Duration::from_secs(a.read_timeout.max(1)),
        grace: Duration::from_secs(a.grace),
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
    let served = rt.block_on(genre_server::serve(model, name, opts));
    // An analysis cancelled at shutdown may still run on a blocking thread: do not wait for it
    // (its files are already gone with the private folder).
    rt.shutdown_timeout(Duration::from_secs(1));
    served.context("genre serve")?;
    Ok(ExitCode::SUCCESS)
}
