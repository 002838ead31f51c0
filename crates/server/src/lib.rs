//! `genre serve`: the model loaded once behind an HTTP API, and the web app that uses it.
//!
//! - `POST /api/predict[?class=NAME]`: a multipart form with the audio in `file`, or the raw
//!   audio as the body: genres, per-window timeline, Grad-CAM per second and the spectrogram +
//!   evidence picture (inline PNG).
//! - `GET /api/model`, `GET /healthz`, `GET /api/quiz/next`, `GET /api/quiz/clip/{id}`,
//!   `POST /api/quiz/answer`, and the web app's files at `/`.
//!
//! Bounded by design: uploads are capped (413), CPU work runs on at most `workers` blocking
//! threads with at most `queue` requests waiting (503 beyond), each request has a deadline (503),
//! uploads go to a temporary file in `tmp` that is always removed, nothing is written elsewhere.

mod api;
mod assets;
mod quiz;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use genre_pipeline::Predictor;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    /// Largest upload in bytes.
    pub max_upload: usize,
    /// Requests doing CPU work at once, and requests allowed to wait for one.
    pub workers: usize,
    pub queue: usize,
    /// Deadline of one request (waiting included).
    pub timeout: Duration,
    /// Where uploads are written while they are analysed (a private temporary folder in it).
    pub tmp: PathBuf,
    /// A genre folder (one sub-folder per genre) of quiz clips.
    pub quiz: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            addr: ([127, 0, 0, 1], 8080).into(),
            max_upload: 50 << 20,
            workers: 1,
            queue: 32,
            timeout: Duration::from_secs(120),
            tmp: std::env::temp_dir(),
            quiz: None,
        }
    }
}

pub(crate) struct State {
    pub model: Predictor,
    pub model_name: String,
    pub opts: Options,
    pub tmp: tempfile::TempDir,
    pub cpu: Arc<tokio::sync::Semaphore>,
    pub waiting: AtomicUsize,
    pub quiz: Option<quiz::Quiz>,
}

/// The app: routes over shared state. `model_name` is shown by `GET /api/model`.
pub fn app(model: Predictor, model_name: String, opts: Options) -> std::io::Result<axum::Router> {
    let tmp = tempfile::Builder::new().prefix("genre-serve-").tempdir_in(&opts.tmp)?;
    let quiz = match &opts.quiz {
        Some(dir) => Some(quiz::Quiz::open(dir)?),
        None => None,
    };
    let state = Arc::new(State {
        model,
        model_name,
        cpu: Arc::new(tokio::sync::Semaphore::new(opts.workers.max(1))),
        waiting: AtomicUsize::new(0),
        opts,
        tmp,
        quiz,
    });
    Ok(api::routes(state))
}

/// Serve until Ctrl-C or SIGTERM: both shut down gracefully, so the private folder is removed.
pub async fn serve(model: Predictor, model_name: String, opts: Options) -> std::io::Result<()> {
    let addr = opts.addr;
    let router = app(model, model_name, opts)?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("genre serve: http://{}/", listener.local_addr()?);
    axum::serve(listener, router).with_graceful_shutdown(stop_signal()).await
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
