//! Request bodies that fail after `read_timeout` of silence, on every route: hyper bounds the
//! wait for headers but not for a body, so a client that declares a body and stalls would
//! otherwise hold its request (and the JSON extractor's wait) forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State as Shared};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use tokio::time::Sleep;

use crate::api::err;
use crate::State;

/// Wrap the request's body; if it fell silent, the answer is a 408 whatever the handler made
/// of the failed read (a JSON error, a bad form).
pub async fn quiet_bodies(Shared(st): Shared<Arc<State>>, req: Request, next: Next) -> Response {
    let silent = Arc::new(AtomicBool::new(false));
    let limit = st.opts.read_timeout;
    let req = req.map(|b| Body::new(Quiet { inner: b, limit, timer: None, silent: silent.clone() }));
    let answer = next.run(req).await;
    if silent.load(Ordering::SeqCst) && answer.status().as_u16() >= 400 {
        let msg = format!("no data for {} s: request abandoned", limit.as_secs_f64());
        let mut r = err(StatusCode::REQUEST_TIMEOUT, msg).into_response();
        r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close")); // body unread
        return r;
    }
    answer
}

struct Quiet {
    inner: Body,
    limit: Duration,
    /// Started when the handler first waits for data (not when the request came: a handler
    /// may do other things before it reads), restarted by every piece.
    timer: Option<Pin<Box<Sleep>>>,
    silent: Arc<AtomicBool>,
}

impl HttpBody for Quiet {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.timer = None;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                let limit = this.limit;
                let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.silent.store(true, Ordering::SeqCst);
                Poll::Ready(Some(Err(axum::Error::new("the client stopped sending"))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
