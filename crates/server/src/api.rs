//! Routes and handlers.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path as UrlPath, Query, Request, State as Shared};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use genre_audio::AudioError;
use genre_data::DataError;
use genre_model::metrics::{argmax, top_k};
use genre_pipeline::explain::explain_picture;
use genre_pipeline::PipelineError;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::quiz::Quiz;
use crate::{assets, State};

/// Windows analysed per upload at most (evenly spread): bounds the work of a long upload.
const MAX_WINDOWS: usize = 64;
/// Body cap of every route but the upload (JSON answers are a few dozen bytes).
const SMALL_BODY: usize = 16 << 10;
/// Longest upload file name kept, in bytes (it is shown in the answer and the picture's title).
const MAX_NAME: usize = 255;

pub fn routes(st: Arc<State>) -> Router {
    let mut r = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/model", get(model))
        // Uploads are bounded by our own limit (413 with a JSON body), not the extractor default.
        .route("/api/predict", post(predict).layer(DefaultBodyLimit::disable()))
        .route("/api/quiz/next", get(quiz_next))
        .route("/api/quiz/clip/{id}", get(quiz_clip))
        .route("/api/quiz/answer", post(quiz_answer));
    for p in assets::paths() {
        r = r.route(p, get(move || async move { assets::get(p) }));
    }
    r.fallback(|| async { err(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(SMALL_BODY))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(st)
}

/// Errors made by the framework itself (extractor rejections, wrong method) are plain text:
/// answer every error as `{"error": ...}` with the same status, its text not echoed.
async fn json_errors(r: Response) -> Response {
    let is_json = r.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if r.status().as_u16() < 400 || is_json {
        return r;
    }
    let status = r.status();
    err(status, status.canonical_reason().unwrap_or("request refused").to_lowercase()).into_response()
}

/// An internal failure: the details go to the log, the client gets a generic answer (no paths).
fn internal(e: impl std::fmt::Display) -> ApiError {
    eprintln!("genre serve: internal error: {e}");
    err(StatusCode::INTERNAL_SERVER_ERROR, "internal error, see the server log")
}

/// At most `MAX_NAME` bytes of a client's file name, cut on a character boundary.
fn cap_name(name: &str) -> String {
    let mut end = name.len().min(MAX_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// An error answered as `{"error": "..."}` with its status.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn err(status: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError(status, msg.into())
}

async fn model(Shared(st): Shared<Arc<State>>) -> Json<Value> {
    let card = st.model.card();
    Json(json!({
        "name": st.model_name,
        "classes": card.classes,
        "members": st.model.members.len(),
        "description": format!("{} genres; {}", card.classes.len(), card.data),
        "features": card.features,
        "scores": card.scores,
    }))
}

#[derive(Deserialize)]
struct PredictQuery {
    class: Option<String>,
}

async fn predict(
    Shared(st): Shared<Arc<State>>,
    Query(q): Query<PredictQuery>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let (name, bytes) = read_upload(&st, req).await?;
    if bytes.is_empty() {
        return Err(err(StatusCode::UNPROCESSABLE_ENTITY, "empty upload: send an audio file"));
    }
    let classes = &st.model.card().classes;
    let class = match q.class {
        Some(c) => Some(classes.iter().position(|k| *k == c).ok_or_else(|| {
            err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("unknown genre '{c}' (the model knows {})", classes.join(", ")),
            )
        })?),
        None => None,
    };
    on_cpu(&st, move |st| analyse(st, &name, &bytes, class)).await.map(Json)
}

/// The upload: a multipart form's `file` field, or the raw body; at most `max_upload` bytes.
async fn read_upload(st: &State, req: Request) -> Result<(String, Bytes), ApiError> {
    let limit = st.opts.max_upload;
    let too_big = || err(StatusCode::PAYLOAD_TOO_LARGE, format!("upload larger than {} bytes", limit));
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_big());
    }
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (parts, body) = req.into_parts();
    // Slightly more than the file for a form's own bytes.
    let bytes =
        axum::body::to_bytes(body, limit + if multipart { 64 << 10 } else { 0 }).await.map_err(|_| too_big())?;
    if !multipart {
        return Ok(("upload".into(), bytes));
    }
    let bad_form = |e: String| err(StatusCode::UNPROCESSABLE_ENTITY, format!("bad form: {e}"));
    let mut form = Multipart::from_request(Request::from_parts(parts, Body::from(bytes)), &())
        .await
        .map_err(|e| bad_form(e.body_text()))?;
    while let Some(field) = form.next_field().await.map_err(|e| bad_form(e.body_text()))? {
        if field.name() == Some("file") {
            let name = cap_name(field.file_name().unwrap_or("upload"));
            let data = field.bytes().await.map_err(|e| bad_form(e.body_text()))?;
            if data.len() > limit {
                return Err(too_big());
            }
            return Ok((name, data));
        }
    }
    Err(bad_form("no field named 'file'".into()))
}

/// Run CPU work on the bounded blocking pool: at most `workers` at once, at most `queue`
/// waiting (503 beyond), all within the request deadline (503).
async fn on_cpu<T: Send + 'static>(
    st: &Arc<State>,
    work: impl FnOnce(&State) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
    impl Drop for Waiting<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let before = st.waiting.fetch_add(1, Ordering::SeqCst);
    let _waiting = Waiting(&st.waiting);
    if before >= st.opts.queue + st.opts.workers {
        return Err(err(StatusCode::SERVICE_UNAVAILABLE, format!("busy: {before} requests ahead, try again")));
    }
    let job = async {
        let permit =
            st.cpu.clone().acquire_owned().await.map_err(|_| err(StatusCode::SERVICE_UNAVAILABLE, "shutting down"))?;
        let st2 = st.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit; // held until the work ends, even if the request gave up
            work(&st2)
        })
        .await
        .map_err(internal)?
    };
    tokio::time::timeout(st.opts.timeout, job)
        .await
        .map_err(|_| err(StatusCode::SERVICE_UNAVAILABLE, format!("timed out after {} s", st.opts.timeout.as_secs())))?
}

/// Decode errors of the upload itself: not audio (415) or audio that cannot be read (422).
fn upload_error(e: PipelineError) -> ApiError {
    match &e {
        PipelineError::Data(DataError::Audio(a)) => {
            let status = match a {
                AudioError::UnknownFormat { .. } | AudioError::UnsupportedCodec { .. } | AudioError::NoTrack { .. } => {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            // The temporary file's name means nothing to the client: keep the cause only.
            let msg = a.to_string();
            let cause = msg.split_once(": ").map(|(_, c)| c.to_string()).unwrap_or(msg);
            err(status, cause)
        }
        PipelineError::Data(DataError::Feature { msg, .. }) => err(StatusCode::UNPROCESSABLE_ENTITY, msg.clone()),
        _ => internal(e),
    }
}

/// Write the upload to a temporary file (removed when this returns, whatever happens), explain
/// it, draw it.
fn analyse(st: &State, name: &str, bytes: &[u8], class: Option<usize>) -> Result<Value, ApiError> {
    // A /tmp cleaner may have removed the private folder: recreate it rather than fail forever.
    std::fs::create_dir_all(st.tmp.path()).map_err(internal)?;
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()));
    let mut audio = tempfile::Builder::new()
        .prefix("upload-")
        .suffix(&ext.map(|e| format!(".{e}")).unwrap_or_default())
        .tempfile_in(st.tmp.path())
        .map_err(internal)?;
    audio.write_all(bytes).map_err(internal)?;
    audio.flush().map_err(internal)?;
    let classes = st.model.card().classes.clone();
    let e = st.model.explain_file(audio.path(), class, Some(MAX_WINDOWS));
    let (probs, segments, cam, picture, duration) = match e {
        Ok(e) => {
            let png =
                tempfile::Builder::new().prefix("cam-").suffix(".png").tempfile_in(st.tmp.path()).map_err(internal)?;
            let picture = explain_picture(audio.path(), Some(name), &e, &classes, png.path()).ok().and_then(|plot| {
                let bytes = std::fs::read(png.path()).ok()?;
                let (w, h) = png_size(&bytes)?;
                Some(json!({
                    "png": format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes)),
                    "width": w, "height": h, "plot_left": plot.left, "plot_right": plot.left + plot.width,
                }))
            });
            let segments = segments_json(&classes, &e.times, &e.window_probs);
            let cam = json!({ "class": classes[e.class], "seconds": e.per_second });
            (e.probs, segments, cam, picture.unwrap_or(Value::Null), e.duration)
        }
        // Models without a map to explain (feature MLPs, LSTMs) still answer.
        Err(PipelineError::Invalid(msg)) if msg.starts_with("explain:") => {
            let p = st.model.predict_file(audio.path(), Some(MAX_WINDOWS)).map_err(upload_error)?;
            let segments = segments_json(&classes, &p.windows.times, &p.window_probs);
            (p.probs, segments, Value::Null, Value::Null, p.windows.duration)
        }
        Err(e) => return Err(upload_error(e)),
    };
    let order = top_k(&probs, 3);
    Ok(json!({
        "file": name,
        "duration": duration,
        "classes": classes,
        "genre": classes[argmax(&probs)],
        "top": order.iter().map(|&i| (classes[i].clone(), probs[i])).collect::<Vec<_>>(),
        "probabilities": probs,
        "segments": segments,
        "cam": cam,
        "picture": picture,
    }))
}

fn segments_json(classes: &[String], times: &[(f64, f64)], probs: &[Vec<f32>]) -> Value {
    times
        .iter()
        .zip(probs)
        .map(|(&(s, e), p)| json!({ "start": s, "end": e, "genre": classes[argmax(p)], "probabilities": p }))
        .collect()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    (b.len() >= 24 && &b[1..4] == b"PNG")
        .then(|| (u32::from_be_bytes(b[16..20].try_into().unwrap()), u32::from_be_bytes(b[20..24].try_into().unwrap())))
}

fn quiz_of(st: &State) -> Result<&Quiz, ApiError> {
    st.quiz.as_ref().ok_or_else(|| err(StatusCode::NOT_FOUND, "no quiz folder: start genre serve --quiz DIR"))
}

async fn quiz_next(Shared(st): Shared<Arc<State>>) -> Result<Json<Value>, ApiError> {
    let quiz = quiz_of(&st)?;
    let id = rand::random::<usize>() % quiz.clips.len();
    Ok(Json(
        json!({ "id": id.to_string(), "audio": format!("/api/quiz/clip/{id}"), "choices": st.model.card().classes }),
    ))
}

async fn quiz_clip(Shared(st): Shared<Arc<State>>, UrlPath(id): UrlPath<usize>) -> Result<Response, ApiError> {
    let quiz = quiz_of(&st)?;
    let (path, _) = quiz.clips.get(id).ok_or_else(|| err(StatusCode::NOT_FOUND, "no such clip"))?;
    let bytes = tokio::fs::read(path).await.map_err(internal)?;
    Ok(([(header::CONTENT_TYPE, Quiz::content_type(path))], bytes).into_response())
}

#[derive(Deserialize)]
struct Answer {
    id: String,
    guess: String,
}

async fn quiz_answer(Shared(st): Shared<Arc<State>>, Json(a): Json<Answer>) -> Result<Json<Value>, ApiError> {
    let quiz = quiz_of(&st)?;
    let id: usize = a.id.parse().map_err(|_| err(StatusCode::UNPROCESSABLE_ENTITY, "bad clip id"))?;
    let (_, truth) = quiz.clips.get(id).ok_or_else(|| err(StatusCode::NOT_FOUND, "no such clip"))?.clone();
    let known = quiz.answers.lock().expect("quiz answers").get(&id).cloned();
    let top = match known {
        Some(t) => t,
        None => {
            let t = on_cpu(&st, move |st| {
                let quiz = st.quiz.as_ref().expect("quiz");
                let p = st.model.predict_file(&quiz.clips[id].0, Some(MAX_WINDOWS)).map_err(upload_error)?;
                let classes = &st.model.card().classes;
                Ok(top_k(&p.probs, 3).into_iter().map(|i| (classes[i].clone(), p.probs[i])).collect::<Vec<_>>())
            })
            .await?;
            quiz.answers.lock().expect("quiz answers").insert(id, t.clone());
            t
        }
    };
    let model = top[0].0.clone();
    Ok(Json(json!({
        "truth": truth, "model": model, "model_top": top,
        "you_right": a.guess == truth, "model_right": model == truth,
    })))
}
