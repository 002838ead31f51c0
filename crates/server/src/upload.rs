//! Receiving an upload: the raw body or a form's `file` field, streamed piece by piece into a
//! temporary file, so memory does not grow with the upload's size (413 as soon as the file
//! passes the cap; a client silent longer than `read_timeout` gets 408, see `quiet.rs`).

use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderMap, StatusCode};
use http_body::Frame;
use tokio::io::AsyncWriteExt;

use crate::api::{err, internal, ApiError};
use crate::State;

/// A form's own bytes (boundaries, part headers, other fields) allowed besides its file: room
/// for a long file name (capped to `MAX_NAME` once read), little beside a 50 MB file.
pub const FORM_SLACK: u64 = 256 << 10;
/// Longest upload file name kept, in bytes (it is shown in the answer and the picture's title).
pub const MAX_NAME: usize = 255;

/// An upload on disk: the file is removed when this is dropped (answered, failed, cancelled).
pub struct Upload {
    pub name: String,
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    /// A second handle on the same open file, written without blocking the runtime's threads.
    writer: tokio::fs::File,
}

impl Upload {
    /// Wait until every piece is written (a write's error shows here at the latest).
    async fn finish(mut self) -> Result<Self, ApiError> {
        self.writer.flush().await.map_err(internal)?;
        Ok(self)
    }
}

pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

pub fn too_big(limit: usize) -> ApiError {
    err(StatusCode::PAYLOAD_TOO_LARGE, format!("upload larger than {limit} bytes"))
}

/// A declared length that is already too long is refused before anything is read. A form
/// may be longer than its file by `FORM_SLACK`.
pub fn check_declared(st: &State, headers: &HeaderMap) -> Result<(), ApiError> {
    let slack = if is_multipart(headers) { FORM_SLACK } else { 0 };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(n) if n > st.opts.max_upload as u64 + slack => Err(too_big(st.opts.max_upload)),
        _ => Ok(()),
    }
}

/// Receive the upload into a temporary file in the private folder.
pub async fn receive(st: &State, req: Request) -> Result<Upload, ApiError> {
    let up = if is_multipart(req.headers()) {
        receive_form(st, req).await?
    } else {
        let mut up = create(st, "upload")?;
        let mut body = req.into_body();
        while let Some(chunk) = next_data(&mut body).await? {
            append(st, &mut up, &chunk).await?;
        }
        up
    };
    up.finish().await
}

/// The next data of a raw body, or `None` at its end. (A body silent past `read_timeout` fails
/// here: see `quiet.rs`, which then answers 408.)
async fn next_data(body: &mut Body) -> Result<Option<Bytes>, ApiError> {
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
            None => return Ok(None),
            Some(Err(_)) => return Err(err(StatusCode::BAD_REQUEST, "the upload was cut off")),
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    return Ok(Some(data));
                } // trailers: nothing to keep
            }
        }
    }
}

/// The form's `file` field. Other fields are read and dropped (they count as form bytes).
async fn receive_form(st: &State, req: Request) -> Result<Upload, ApiError> {
    let (parts, body) = req.into_parts();
    let meter = Metered::new(body);
    let (file_bytes, over) = (meter.file.clone(), meter.over.clone());
    let bad_form = |e: String| {
        if over.load(Ordering::SeqCst) {
            err(StatusCode::PAYLOAD_TOO_LARGE, format!("form fields and headers larger than {FORM_SLACK} bytes"))
        } else {
            err(StatusCode::UNPROCESSABLE_ENTITY, format!("bad form: {e}"))
        }
    };
    let mut form = Multipart::from_request(Request::from_parts(parts, Body::new(meter)), &())
        .await
        .map_err(|e| bad_form(e.body_text()))?;
    loop {
        let Some(mut field) = form.next_field().await.map_err(|e| bad_form(e.body_text()))? else {
            return Err(bad_form("no field named 'file'".into()));
        };
        let is_file = field.name() == Some("file");
        let mut up = if is_file { Some(create(st, &cap_name(field.file_name().unwrap_or("upload")))?) } else { None };
        while let Some(chunk) = field.chunk().await.map_err(|e| bad_form(e.body_text()))? {
            if let Some(up) = up.as_mut() {
                file_bytes.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                append(st, up, &chunk).await?;
            }
        }
        if let Some(up) = up {
            return Ok(up);
        }
    }
}

/// A new empty upload file, named after the client's file only by its extension.
fn create(st: &State, name: &str) -> Result<Upload, ApiError> {
    if st.closing.load(Ordering::SeqCst) {
        return Err(err(StatusCode::SERVICE_UNAVAILABLE, "shutting down"));
    }
    // A /tmp cleaner may have removed the private folder: recreate it rather than fail forever.
    std::fs::create_dir_all(st.tmp.path()).map_err(internal)?;
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()));
    let file = tempfile::Builder::new()
        .prefix("upload-")
        .suffix(&ext.map(|e| format!(".{e}")).unwrap_or_default())
        .tempfile_in(st.tmp.path())
        .map_err(internal)?;
    let writer = tokio::fs::File::from_std(file.as_file().try_clone().map_err(internal)?);
    Ok(Upload { name: name.to_string(), file, size: 0, writer })
}

/// Append a piece, refusing it (413) if the file would pass the cap.
async fn append(st: &State, up: &mut Upload, chunk: &[u8]) -> Result<(), ApiError> {
    if up.size + chunk.len() as u64 > st.opts.max_upload as u64 {
        return Err(too_big(st.opts.max_upload));
    }
    up.writer.write_all(chunk).await.map_err(internal)?;
    up.size += chunk.len() as u64;
    Ok(())
}

/// At most `MAX_NAME` bytes of a client's file name, cut on a character boundary.
pub fn cap_name(name: &str) -> String {
    let mut end = name.len().min(MAX_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// A form's body as the form parser sees it. The parser reads every piece that is ready before
/// it looks at them, and keeps what it cannot yet hand out (a part's headers until their end):
/// fed one piece per poll, it holds at most one piece beyond what it handed out, and once the
/// bytes fed but not handed out as the file (the form's own bytes) pass `FORM_SLACK`, the body
/// fails, so a form of endless headers or fields costs 256 KB, not the upload cap.
struct Metered {
    inner: Body,
    fed: u64,
    /// File bytes handed out so far (counted by the reader).
    file: Arc<AtomicU64>,
    /// Set when the form's own bytes passed `FORM_SLACK`.
    over: Arc<AtomicBool>,
    /// A piece was just given: the next poll yields (and asks to be polled again at once).
    just_fed: bool,
}

impl Metered {
    fn new(inner: Body) -> Self {
        Self { inner, fed: 0, file: Arc::default(), over: Arc::default(), just_fed: false }
    }
}

impl HttpBody for Metered {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.just_fed {
            this.just_fed = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if this.fed.saturating_sub(this.file.load(Ordering::SeqCst)) > FORM_SLACK {
            this.over.store(true, Ordering::SeqCst);
            return Poll::Ready(Some(Err(axum::Error::new("form fields and headers too large"))));
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(f))) = &polled {
            if let Some(d) = f.data_ref() {
                this.fed += d.len() as u64;
                this.just_fed = true;
            }
        }
        polled
    }
}
