//! The real server on loopback, driven over HTTP: answers, limits, concurrency, the quiz, and
//! no upload left behind.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use genre_audio::synth::genre_clip;
use genre_audio::wav::write_wav_mono16;
use genre_pipeline::Predictor;
use genre_server::{app, Options};

/// Start the server with the built-in model on a free loopback port; it runs until the test ends.
fn start(opts: Options) -> SocketAddr {
    let model = Predictor::load(None).expect("built-in model");
    let router = app(model, "built-in default".into(), opts).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || rt.block_on(async { axum::serve(listener, router).await.unwrap() }));
    addr
}

fn wav_bytes(dir: &Path, genre: usize, secs: f64, seed: u64) -> Vec<u8> {
    let p = dir.join(format!("clip{genre}_{seed}.wav"));
    write_wav_mono16(&p, &genre_clip(genre, secs, 22050, seed), 22050).unwrap();
    std::fs::read(p).unwrap()
}

/// (status, JSON body) of a POST.
fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let r = ureq::post(&format!("http://{addr}{path}")).set("Content-Type", content_type).send_bytes(body);
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    (resp.status(), resp.into_json().unwrap())
}

/// POST over a raw socket: the body is written from another thread (write errors ignored: the
/// server may answer and close early) while this one reads the answer: (status, body).
fn raw_post(addr: SocketAddr, headers: &str, body: Vec<u8>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!("POST /api/predict HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n");
    conn.write_all(head.as_bytes()).unwrap();
    let mut writer = conn.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&body);
    });
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer); // may end in a reset once the answer is in
    drop(conn);
    let _ = sending.join();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

fn multipart(field: &str, filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----genre-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: audio/wav\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn options(tmp: &Path) -> Options {
    Options { tmp: tmp.to_path_buf(), max_upload: 4 << 20, workers: 2, queue: 64, ..Options::default() }
}

/// Files left in the server's private temporary folder(s).
fn leftovers(tmp: &Path) -> usize {
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|d| std::fs::read_dir(d.path()).unwrap().count())
        .sum()
}

#[test]
fn upload_answers_with_genres_timeline_cam_and_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(options(tmp.path()));
    let wav = wav_bytes(tmp.path(), 2, 7.0, 3);
    for (ct, body) in [("audio/wav".to_string(), wav.clone()), multipart("file", "song.wav", &wav)] {
        let (status, v) = post(addr, "/api/predict", &ct, &body);
        assert_eq!(status, 200, "{v}");
        let classes: Vec<&str> = v["classes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert!(classes.contains(&v["genre"].as_str().unwrap()));
        let total: f64 = v["probabilities"].as_array().unwrap().iter().map(|p| p.as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-3, "{total}");
        assert!(!v["segments"].as_array().unwrap().is_empty());
        assert_eq!(v["cam"]["seconds"].as_array().unwrap().len(), 7);
        assert!(v["picture"]["png"].as_str().unwrap().starts_with("data:image/png;base64,"));
        assert!(v["picture"]["plot_right"].as_i64().unwrap() > v["picture"]["plot_left"].as_i64().unwrap());
    }
    // A chosen genre is explained.
    let (status, v) = post(addr, "/api/predict?class=jazz", "audio/wav", &wav);
    assert_eq!((status, v["cam"]["class"].as_str()), (200, Some("jazz")));
    let (status, v) = post(addr, "/api/predict?class=polka", "audio/wav", &wav);
    assert_eq!(status, 422, "{v}");
    let model: serde_json::Value = ureq::get(&format!("http://{addr}/api/model")).call().unwrap().into_json().unwrap();
    assert_eq!(model["classes"].as_array().unwrap().len(), 10);
    assert_eq!(ureq::get(&format!("http://{addr}/healthz")).call().unwrap().into_string().unwrap(), "ok");
    let page = ureq::get(&format!("http://{addr}/")).call().unwrap();
    assert!(page.content_type().starts_with("text/html"));
    assert_eq!(leftovers(tmp.path()), 0, "uploads removed");
}

#[test]
fn bad_uploads_get_the_right_codes_and_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(Options { max_upload: 1 << 20, ..options(tmp.path()) });
    // Too large, declared up front or found while reading a chunked body: 413 either way. The
    // server answers without reading the whole body, so the client must read the answer while
    // still sending (an HTTP client that only reads after sending sees a broken pipe).
    let declared = format!("Content-Type: audio/wav\r\nContent-Length: {}\r\n", 2 << 20);
    let (status, body) = raw_post(addr, &declared, vec![1u8; 2 << 20]);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("upload larger than"), "{body}");
    let mut chunked = Vec::new();
    for _ in 0..32 {
        chunked.extend_from_slice(format!("{:x}\r\n", 64 << 10).as_bytes());
        chunked.extend(std::iter::repeat_n(1u8, 64 << 10));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (status, body) = raw_post(addr, "Content-Type: audio/wav\r\nTransfer-Encoding: chunked\r\n", chunked);
    assert_eq!(status, 413, "{body}");
    let (status, v) = post(addr, "/api/predict", "audio/wav", b"");
    assert_eq!(status, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("empty"));
    let (status, v) = post(addr, "/api/predict", "application/octet-stream", b"this is a text file, not music at all");
    assert_eq!(status, 415, "{v}");
    assert!(v["error"].as_str().unwrap().contains("not a recognised audio format"), "{v}");
    // A WAV header claiming 0 Hz: audio, but unreadable.
    let mut bad = wav_bytes(tmp.path(), 1, 1.0, 1);
    bad[24..28].copy_from_slice(&0u32.to_le_bytes());
    let (status, v) = post(addr, "/api/predict", "audio/wav", &bad);
    assert_eq!(status, 422, "{v}");
    let (ct, body) = multipart("other", "x.wav", b"RIFF");
    assert_eq!(post(addr, "/api/predict", &ct, &body).0, 422);
    assert_eq!(leftovers(tmp.path()), 0, "uploads removed");
}

#[test]
fn twenty_concurrent_uploads_all_succeed() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(options(tmp.path()));
    let bodies: Vec<Vec<u8>> = (0..20).map(|i| wav_bytes(tmp.path(), i % 6, 3.0 + (i % 3) as f64, i as u64)).collect();
    let started = std::time::Instant::now();
    let handles: Vec<_> =
        bodies.into_iter().map(|b| std::thread::spawn(move || post(addr, "/api/predict", "audio/wav", &b))).collect();
    for h in handles {
        let (status, v) = h.join().unwrap();
        assert_eq!(status, 200, "{v}");
    }
    println!("20 concurrent uploads answered in {:.1} s", started.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(leftovers(tmp.path()), 0, "uploads removed");
}

#[test]
fn the_quiz_plays_clips_and_judges_both_players() {
    let tmp = tempfile::tempdir().unwrap();
    let quiz = tmp.path().join("quiz");
    for (g, name) in [(0, "jazz"), (3, "metal")] {
        std::fs::create_dir_all(quiz.join(name)).unwrap();
        write_wav_mono16(&quiz.join(name).join("a.wav"), &genre_clip(g, 3.0, 22050, 7), 22050).unwrap();
    }
    let addr = start(Options { quiz: Some(quiz), ..options(tmp.path()) });
    let next: serde_json::Value =
        ureq::get(&format!("http://{addr}/api/quiz/next")).call().unwrap().into_json().unwrap();
    let clip = ureq::get(&format!("http://{addr}{}", next["audio"].as_str().unwrap())).call().unwrap();
    assert_eq!(clip.content_type(), "audio/wav");
    let body = serde_json::json!({ "id": next["id"], "guess": "jazz" }).to_string();
    let (status, v) = post(addr, "/api/quiz/answer", "application/json", body.as_bytes());
    assert_eq!(status, 200, "{v}");
    let truth = v["truth"].as_str().unwrap();
    assert!(truth == "jazz" || truth == "metal");
    assert_eq!(v["you_right"].as_bool().unwrap(), truth == "jazz");
    assert_eq!(v["model_right"].as_bool().unwrap(), v["model"] == v["truth"]);
    // Without a quiz folder: 404 with the reason.
    let plain = start(options(tmp.path()));
    match ureq::get(&format!("http://{plain}/api/quiz/next")).call() {
        Err(ureq::Error::Status(404, r)) => assert!(r.into_string().unwrap().contains("--quiz")),
        other => panic!("{other:?}"),
    }
}

/// (status, body text) of a GET.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    match ureq::get(&format!("http://{addr}{path}")).call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

fn assert_json_error(status: u16, body: &str, want: u16) {
    assert_eq!(status, want, "{body}");
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert!(v["error"].is_string(), "{body}");
}

#[test]
fn json_routes_have_a_small_body_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(options(tmp.path()));
    // 1 MB of JSON to the quiz answer: refused by the cap, not buffered (413, JSON).
    let big = format!("{{\"id\":\"0\",\"guess\":\"{}\"}}", "x".repeat(1 << 20));
    let (status, v) = post(addr, "/api/quiz/answer", "application/json", big.as_bytes());
    assert_eq!(status, 413, "{v}");
    assert!(v["error"].is_string());
}

#[test]
fn framework_errors_are_json_with_the_right_status() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(options(tmp.path()));
    let (status, v) = post(addr, "/api/quiz/answer", "application/json", b"{not json");
    assert_eq!(status, 400, "{v}");
    assert!(v["error"].is_string());
    let (status, v) = post(addr, "/api/predict?class=a&class=b", "audio/wav", b"RIFF");
    assert_eq!(status, 400, "{v}");
    let (s, b) = get(addr, "/api/quiz/clip/not-a-number");
    assert_json_error(s, &b, 400);
    let (s, b) = get(addr, "/api/no-such-route");
    assert_json_error(s, &b, 404);
    let (s, b) = get(addr, "/api/predict");
    assert_json_error(s, &b, 405);
}

#[test]
fn a_giant_file_name_is_capped_and_does_not_size_the_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(options(tmp.path()));
    let wav = wav_bytes(tmp.path(), 2, 4.0, 3);
    // 50 000 characters, multi-byte ones so the cap must fall on a character boundary.
    let name = format!("{}.wav", "é".repeat(50_000));
    let (ct, body) = multipart("file", &name, &wav);
    let (status, v) = post(addr, "/api/predict", &ct, &body);
    assert_eq!(status, 200, "{v}");
    let kept = v["file"].as_str().unwrap();
    assert!(kept.len() <= 255 && kept.starts_with('é'), "{} bytes", kept.len());
    let width = v["picture"]["width"].as_u64().unwrap_or(0);
    assert!(width < 10_000, "picture {width} px wide");
}

#[test]
fn a_vanished_temp_folder_is_recreated_and_no_path_is_answered() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(options(tmp.path()));
    for d in std::fs::read_dir(tmp.path()).unwrap() {
        std::fs::remove_dir_all(d.unwrap().path()).unwrap(); // a /tmp cleaner
    }
    let wav = wav_bytes(&std::env::temp_dir(), 1, 4.0, 5);
    let (status, v) = post(addr, "/api/predict", "audio/wav", &wav);
    assert_eq!(status, 200, "{v}");
    assert!(!v.to_string().contains(tmp.path().to_str().unwrap()));
}
