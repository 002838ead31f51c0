//! The server's upload path, in process: `POST /api/predict` through the real router (form
//! parsing, size limits, the temporary file, decoding, Grad-CAM, the picture), with the request's
//! content type, query and body all taken from the fuzzed bytes.
//!
//! An input is `CONTENT-TYPE \n QUERY \n BODY` (the server over real sockets, with resets, slow
//! bodies and every route, is `serve_net.rs`). The model is a small untrained CNN on log-mel:
//! the answer's numbers do not matter here, only that every input gets a 2xx/4xx/503 with a JSON
//! body (a 500 means a handler failed or panicked), that probabilities are finite, and that the
//! upload's temporary files are gone when the answer is.

use std::path::Path;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use genre_data::{FeatureKind, FeatureSpec};
use genre_model::arch::{ArchConfig, Family};
use genre_model::card::{ModelCard, Normalization, CARD_FORMAT};
use genre_pipeline::{Classifier, Predictor};
use tower::ServiceExt;

struct Server {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    tmp: tempfile::TempDir,
}

/// Largest upload the fuzzed server takes (413 beyond).
const MAX_UPLOAD: usize = 1 << 20;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let opts = genre_server::Options {
            tmp: tmp.path().to_path_buf(),
            max_upload: MAX_UPLOAD,
            workers: 1,
            queue: 4,
            ..Default::default()
        };
        let app = genre_server::app(tiny_cnn(), "fuzz".into(), opts).expect("server state");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        Server { rt, app, tmp }
    })
}

/// An untrained 3-genre CNN on 1 s log-mel windows of 32 bands: fast to run, and it has the
/// feature maps Grad-CAM needs, so the explain and picture code runs on every decodable upload.
pub(crate) fn tiny_cnn() -> Predictor {
    let spec = FeatureSpec { n_mels: 32, ..FeatureSpec::new(FeatureKind::Logmel, 1.0, 0.5) };
    let [rows, cols] = spec.shape();
    let arch = ArchConfig::new(Family::Cnn, rows, cols, 3);
    let card = ModelCard {
        format: CARD_FORMAT.into(),
        arch: arch.clone(),
        classes: vec!["a".into(), "b".into(), "c".into()],
        multi_label: false,
        thresholds: vec![],
        features: serde_json::to_value(&spec).expect("spec serialises"),
        normalization: Normalization { mean: vec![-40.0], std: vec![20.0] },
        data: "fuzz".into(),
        split: "none".into(),
        training: serde_json::Value::Null,
        scores: serde_json::Value::Null,
        temperature: 1.0,
        trained_on: vec![],
    };
    let net = genre_model::Net::new(&arch, &genre_model::device::base());
    Predictor::single(Classifier::from_parts(card, net).expect("a valid card"))
}

/// A multipart form holding `data` in the `file` field, with its content type on the first line.
pub fn form(filename: &str, data: &[u8]) -> Vec<u8> {
    let mut b =
        b"multipart/form-data; boundary=XyZ\n\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
            .to_vec();
    b.extend_from_slice(filename.as_bytes());
    b.extend_from_slice(b"\"\r\nContent-Type: audio/wav\r\n\r\n");
    b.extend_from_slice(data);
    b.extend_from_slice(b"\r\n--XyZ--\r\n");
    b
}

fn line(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|&c| c == b'\n') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &[]),
    }
}

pub fn run(b: &[u8], _dir: &Path) {
    let s = server();
    let (content_type, rest) = line(b);
    let (query, body) = line(rest);
    let mut req = Request::post("/api/predict");
    if let Ok(q) = std::str::from_utf8(query) {
        if !q.is_empty() && format!("/api/predict?{q}").parse::<axum::http::Uri>().is_ok() {
            req = Request::post(format!("/api/predict?{q}"));
        }
    }
    if let Ok(v) = header::HeaderValue::from_bytes(content_type) {
        req = req.header(header::CONTENT_TYPE, v);
    }
    let req = req.body(Body::from(body.to_vec())).expect("request");
    let (status, answer) = s.rt.block_on(async {
        let resp = s.app.clone().oneshot(req).await.expect("the router answers");
        let status = resp.status();
        (status, axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body"))
    });
    check(status, &answer);
    let left = walk_files(s.tmp.path());
    assert!(left == 0, "{left} temporary files left after the answer");
}

/// Every answer is a JSON object: an error with its reason, or finite probabilities.
fn check(status: StatusCode, answer: &[u8]) {
    let text = String::from_utf8_lossy(answer);
    assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "500: {text}");
    // Every error is JSON, the framework's own (a query the extractor rejects) included.
    let v: serde_json::Value =
        serde_json::from_slice(answer).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    if status.is_success() {
        let probs = v["probabilities"].as_array().expect("probabilities");
        assert!(probs.iter().all(|p| p.as_f64().is_some_and(f64::is_finite)), "{text}");
    } else {
        assert!(v["error"].is_string(), "{status}: {text}");
    }
}

fn walk_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { walk_files(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}
