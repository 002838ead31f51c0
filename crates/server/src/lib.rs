//! `genre serve`: the model loaded once behind an HTTP API, and the web app that uses it.
//!
//! - `POST /api/predict[?class=NAME]`: a multipart form with the audio in `file`, or the raw
//!   audio as the body: genres, per-window timeline, Grad-CAM per second and the spectrogram +
//!   evidence picture (inline PNG).
//! - `GET /api/model`, `GET /healthz`, `GET /api/quiz/next`, `GET /api/quiz/clip/{id}`,
//!   `POST /api/quiz/answer`, and the web app's files at `/`.
//!
//! Bounded by design: at most `max_connections` connections are served (more wait in the
//! kernel's backlog); headers and every piece of a body must arrive within `read_timeout`, and
//! an answer left unread that long closes its connection (see `deadline.rs`);
//! at most `workers + queue` uploads are in progress (receiving, waiting or analysed; 503
//! beyond, answered before any of the body is read); an upload is streamed to a temporary
//! file in `tmp` (never held whole in memory; 413 as soon as it passes `max_upload`) that is
//! always removed; each request has a deadline (503); other routes take at most 16 KB bodies.

mod api;
mod assets;
mod deadline;
mod quiet;
mod quiz;
mod upload;

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use genre_pipeline::Predictor;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    /// Largest upload in bytes (the file itself: a form's own bytes are not counted).
    pub max_upload: usize,
    /// Requests doing CPU work at once, and further uploads allowed in progress (receiving or
    /// waiting for a worker).
    pub workers: usize,
    pub queue: usize,
    /// Deadline of one request (upload, waiting and analysis).
    pub timeout: Duration,
    /// Open connections served at once; more wait, unanswered, until one closes.
    pub max_connections: usize,
    /// The longest a client may stay silent: while sending its headers (and between requests on
    /// a kept-alive connection), and between two pieces of a body. Then the connection is closed
    /// (or 408), so a slow client holds nothing for long. Also the longest an answer may wait
    /// for the client to read any of it (a client that never reads would hold its slot).
    pub read_timeout: Duration,
    /// On Ctrl-C or SIGTERM, how long in-flight requests may take to finish before they are
    /// cancelled.
    pub grace: Duration,
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
            max_connections: 256,
            read_timeout: Duration::from_secs(30),
            grace: Duration::from_secs(10),
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
    /// Uploads and quiz analyses in progress (admitted, not yet finished).
    pub admitted: AtomicUsize,
    /// Set once shutting down: no new upload file is created.
    pub closing: AtomicBool,
    pub quiz: Option<quiz::Quiz>,
}

impl State {
    /// Remove the private folder now, even while blocking work still holds the state: a
    /// process about to exit must not leave it behind. Retried because an analysis finishing
    /// at that moment may add a file while the folder is emptied.
    fn close(&self) {
        self.closing.store(true, std::sync::atomic::Ordering::SeqCst);
        for _ in 0..5 {
            match std::fs::remove_dir_all(self.tmp.path()) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => std::thread::sleep(Duration::from_millis(20)),
                _ => return,
            }
        }
        log(format_args!("could not remove {}", self.tmp.path().display()));
    }
}

/// A line on stderr. Never panics (eprintln! does when stderr is a closed pipe, and the
/// process that started us may have stopped reading it).
pub(crate) fn log(msg: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "genre serve: {msg}");
}

fn state(model: Predictor, model_name: String, opts: Options) -> std::io::Result<Arc<State>> {
    let tmp = tempfile::Builder::new().prefix("genre-serve-").tempdir_in(&opts.tmp)?;
    let quiz = match &opts.quiz {
        Some(dir) => {
            let heard = model.members.iter().flat_map(|(c, _)| c.card.trained_on.iter().cloned()).collect();
            let q = quiz::Quiz::open(dir, &heard)?;
            log(format_args!("quiz: {} clips ({} left out: the model was trained on them)", q.clips.len(), q.left_out));
            Some(q)
        }
        None => None,
    };
    Ok(Arc::new(State {
        model,
        model_name,
        cpu: Arc::new(tokio::sync::Semaphore::new(opts.workers.max(1))),
        admitted: AtomicUsize::new(0),
        closing: AtomicBool::new(false),
        opts,
        tmp,
        quiz,
    }))
}

/// The app: routes over shared state. `model_name` is shown by `GET /api/model`.
pub fn app(model: Predictor, model_name: String, opts: Options) -> std::io::Result<axum::Router> {
    Ok(api::routes(state(model, model_name, opts)?))
}

/// Serve on `opts.addr` until Ctrl-C or SIGTERM (see [`serve_on`]).
pub async fn serve(model: Predictor, model_name: String, opts: Options) -> std::io::Result<()> {
    let stop = stop_signal()?; // before the address is printed: a signal from then on is ours
    let listener = TcpListener::bind(opts.addr).await?;
    log(format_args!("http://{}/", listener.local_addr()?));
    serve_on(listener, model, model_name, opts, stop).await
}

/// Serve connections from `listener` until `stop` resolves; then stop accepting, give
/// in-flight requests `opts.grace` to finish, cancel the rest (their uploads are removed) and
/// remove the private folder.
pub async fn serve_on(
    listener: TcpListener,
    model: Predictor,
    model_name: String,
    opts: Options,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let st = state(model, model_name, opts)?;
    let router = api::routes(st.clone());
    let (stopping, stopped) = watch::channel(false);
    let mut conns = JoinSet::new();
    accept_until(&listener, &router, &st.opts, &stopped, &mut conns, stop).await;
    drop(listener);
    let _ = stopping.send(true); // each connection ends after its current request
    let finished = tokio::time::timeout(st.opts.grace, async { while conns.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        log(format_args!("cancelling the requests still in flight"));
    }
    // Dropping a request's future removes its upload; wait until every one is really gone.
    conns.abort_all();
    while conns.join_next().await.is_some() {}
    st.close();
    Ok(())
}

/// The accept loop: one task per connection, at most `max_connections` at once.
async fn accept_until(
    listener: &TcpListener,
    router: &axum::Router,
    opts: &Options,
    stopped: &watch::Receiver<bool>,
    conns: &mut JoinSet<()>,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(opts.max_connections.max(1)));
    tokio::pin!(stop);
    loop {
        // Wait for a free slot first: past the limit, connections wait in the backlog.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("never closed"),
            _ = &mut stop => return,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    log(format_args!("accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => return,
        };
        while conns.try_join_next().is_some() {} // forget finished connections
                                                 // Room to drain a refused upload somewhat over the cap (one much larger is reset).
        let (router, drain) = (router.clone(), 2 * opts.max_upload as u64 + upload::FORM_SLACK);
        let conn = connection(stream, router, opts.read_timeout, drain, stopped.clone());
        conns.spawn(async move {
            conn.await; // a client's reset or timeout ends its connection only
            drop(slot);
        });
    }
}

/// How long a closing connection may keep reading what its client still sends (see `linger`).
const LINGER: Duration = Duration::from_secs(5);

/// Serve one connection until it is done, or until `stopped` and its current request is.
async fn connection(
    stream: TcpStream,
    router: axum::Router,
    read_timeout: Duration,
    drain: u64,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let svc = TowerToHyperService::new(router);
    // Boxed so the connection can be driven without shutting its socket (see below).
    let svc = hyper::service::service_fn(move |req| Box::pin(svc.call(req)));
    let mut conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout)
        .serve_connection(TokioIo::new(deadline::WriteDeadline::new(stream, read_timeout)), svc);
    let mut asked = false;
    let served = loop {
        tokio::select! {
            r = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => break r,
            _ = stopped.changed(), if !asked => {
                asked = true;
                std::pin::Pin::new(&mut conn).graceful_shutdown();
            }
        }
    };
    // Errors (a reset, a timeout) just close; a finished exchange closes lingering.
    if served.is_ok() {
        linger(conn.into_parts().io.into_inner().into_inner(), drain).await;
    }
}

/// Close after the answer without losing it: a socket closed with unread input is reset, and
/// a reset can destroy the answer before the client reads it. A client that sends its whole
/// body before reading (most simple HTTP clients) would then see a broken connection instead
/// of the 503 or 413 that refused its upload unread. So: end our side, then read and drop
/// what still comes, for at most `LINGER` and `drain` bytes. This reads the refused body only
/// to throw it away, after the answer, at no memory cost.
async fn linger(mut io: TcpStream, drain: u64) {
    if io.shutdown().await.is_err() {
        return;
    }
    let mut buf = vec![0u8; 16 << 10];
    let (until, mut left) = (tokio::time::Instant::now() + LINGER, drain);
    while left > 0 {
        match tokio::time::timeout_at(until, io.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n as u64),
            _ => return,
        }
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed now, not when first
/// polled, so a signal sent once the address is printed is never fatal.
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
