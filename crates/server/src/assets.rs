//! The web app's files, embedded at build time (no CDN: it works offline).

use axum::http::header;
use axum::response::{IntoResponse, Response};

const FILES: [(&str, &str, &[u8]); 6] = [
    ("/", "text/html; charset=utf-8", include_bytes!("../assets/index.html")),
    ("/app.js", "text/javascript; charset=utf-8", include_bytes!("../assets/app.js")),
    ("/style.css", "text/css; charset=utf-8", include_bytes!("../assets/style.css")),
    ("/sw.js", "text/javascript; charset=utf-8", include_bytes!("../assets/sw.js")),
    ("/manifest.webmanifest", "application/manifest+json", include_bytes!("../assets/manifest.webmanifest")),
    ("/icon.svg", "image/svg+xml", include_bytes!("../assets/icon.svg")),
];

pub fn paths() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|f| f.0)
}

pub fn get(path: &str) -> Response {
    match FILES.iter().find(|f| f.0 == path) {
        Some((_, mime, body)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "no-cache")], *body).into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}
