//! The real server on loopback (its own accept loop, in process), driven over HTTP: answers,
//! limits, concurrency, slow and silent clients, the quiz, and no upload left behind. The
//! process-level cases (resets, SIGTERM) are in `process.rs`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use genre_audio::synth::genre_clip;
use genre_audio::wav::write_wav_mono16;
use genre_pipeline::Predictor;
use genre_server::{serve_on, Options};
use genre_testkit::http;

/// Start the server with the built-in model on a free loopback port; it runs until the test ends.
fn start(opts: Options) -> SocketAddr {
    start_model(Predictor::load(None).expect("built-in model"), opts)
}

fn start_model(model: Predictor, opts: Options) -> SocketAddr {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let run = serve_on(listener, model, "built-in default".into(), opts, std::future::pending());
    std::thread::spawn(move || rt.block_on(run).unwrap());
    addr
}

fn wav_bytes(dir: &Path, genre: usize, secs: f64, seed: u64) -> Vec<u8> {
    let p = dir.join(format!("clip{genre}_{seed}.wav"));
    write_wav_mono16(&p, &genre_clip(genre, secs, 22050, seed), 22050).unwrap();
    std::fs::read(p).unwrap()
}

/// (status, JSON body) of a POST.
fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let r = http::post(addr, path, content_type, body);
    (r.status, r.json())
}

/// POST over a raw socket: the body is written from another thread (write errors ignored: the
/// server may answer and close early) while this one reads the answer: (status, body).
fn raw_post(addr: SocketAddr, headers: &str, body: Vec<u8>) -> (u16, String) {
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
        // As `genre predict` answers: the outside verdict and musicnn-MSD's genre tags.
        assert!(v["outside"].is_boolean(), "{v}");
        assert_eq!(v["genre_tags"].as_array().map(Vec::len), Some(5), "{v}");
        assert!(v["cam"]["rows"].as_u64().unwrap() >= 8, "a frequency-resolved map: {}", v["cam"]["rows"]);
    }
    // A chosen genre is explained.
    let (status, v) = post(addr, "/api/predict?class=jazz", "audio/wav", &wav);
    assert_eq!((status, v["cam"]["class"].as_str()), (200, Some("jazz")));
    let (status, v) = post(addr, "/api/predict?class=polka", "audio/wav", &wav);
    assert_eq!(status, 422, "{v}");
    let model: serde_json::Value = http::get(addr, "/api/model").json();
    assert_eq!(model["classes"].as_array().unwrap().len(), 10);
    assert_eq!(http::get(addr, "/healthz").text(), "ok");
    let page = http::get(addr, "/");
    assert!(page.content_type.starts_with("text/html"));
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
    let next = http::get(addr, "/api/quiz/next").json();
    let clip = http::get(addr, next["audio"].as_str().unwrap());
    assert_eq!((clip.status, clip.content_type.as_str()), (200, "audio/wav"));
    let body = serde_json::json!({ "id": next["id"], "guess": "jazz" }).to_string();
    let (status, v) = post(addr, "/api/quiz/answer", "application/json", body.as_bytes());
    assert_eq!(status, 200, "{v}");
    let truth = v["truth"].as_str().unwrap();
    assert!(truth == "jazz" || truth == "metal");
    assert_eq!(v["you_right"].as_bool().unwrap(), truth == "jazz");
    assert_eq!(v["model_right"].as_bool().unwrap(), v["model"] == v["truth"]);
    // Without a quiz folder: 404 with the reason.
    let plain = start(options(tmp.path()));
    let r = http::get(plain, "/api/quiz/next");
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.text().contains("--quiz"), "{}", r.text());
}

/// (status, body text) of a GET.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = http::get(addr, path);
    (r.status, r.text())
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
    // Sent from another thread: the server answers without reading it all, then closes.
    let big = format!("{{\"id\":\"0\",\"guess\":\"{}\"}}", "x".repeat(1 << 20));
    let head = format!(
        "POST /api/quiz/answer HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        big.len()
    );
    let (status, text) = unfinished_post(addr, head, big.into_bytes());
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("\"error\""), "{text}");
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
    let (status, v) = post(addr, "/api/quiz/answer", "text/plain", b"{}");
    assert_eq!(status, 415, "{v}");
    assert!(v["error"].is_string());
    let (status, v) = post(addr, "/api/quiz/answer", "application/json", br#"{"id": 5}"#);
    assert_eq!(status, 422, "{v}");
    assert!(v["error"].is_string());
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
    // The title is clipped: the picture is as wide as with a 50-character name, whatever the
    // name's length past that.
    let width = v["picture"]["width"].as_u64().unwrap();
    let (ct, body) = multipart("file", &format!("{}.wav", "é".repeat(50)), &wav);
    let (status, short) = post(addr, "/api/predict", &ct, &body);
    assert_eq!(status, 200, "{short}");
    assert_eq!(width, short["picture"]["width"].as_u64().unwrap(), "picture {width} px wide");
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

/// A connection that gives up reading after `secs`.
fn connect(addr: SocketAddr, secs: u64) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(secs))).unwrap();
    c
}

/// Everything the server sends until it closes: (status, text). Panics if it stays silent
/// past the connection's read timeout.
fn answer(c: &mut TcpStream) -> (u16, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("no answer ({e}); got {:?}", String::from_utf8_lossy(&got)),
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    (text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), text)
}

fn upload_head(addr: SocketAddr, content_type: &str, length: Option<usize>) -> String {
    let length = match length {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".into(),
    };
    format!("POST /api/predict HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\n{length}\r\n")
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let t = std::time::Instant::now();
    while !ok() {
        assert!(t.elapsed() < Duration::from_secs(30), "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_form_whose_file_is_exactly_the_cap_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    // A real WAV of exactly N bytes: the form around it is longer than N, and must not count.
    let wav = wav_bytes(tmp.path(), 3, 2.0, 9);
    let n = wav.len();
    let addr = start(Options { max_upload: n, ..options(tmp.path()) });
    let (ct, body) = multipart("file", "exact.wav", &wav);
    assert!(body.len() > n);
    let (status, v) = post(addr, "/api/predict", &ct, &body);
    assert_eq!(status, 200, "{v}");
    let (status, v) = post(addr, "/api/predict", "audio/wav", &wav);
    assert_eq!(status, 200, "raw body of exactly the cap: {v}");
    // One byte more: 413, in a form or raw (declared lengths, so the early check is what says so).
    let mut over = wav.clone();
    over.push(0);
    let (ct, body) = multipart("file", "over.wav", &over);
    let (status, text) = raw_post(addr, &format!("Content-Type: {ct}\r\nContent-Length: {}\r\n", body.len()), body);
    assert_eq!(status, 413, "{text}");
    let (status, text) = raw_post(addr, &format!("Content-Type: audio/wav\r\nContent-Length: {}\r\n", n + 1), over);
    assert_eq!(status, 413, "{text}");
    assert_eq!(leftovers(tmp.path()), 0, "uploads removed");
}

/// Send `head` and `body` (from another thread, errors ignored: the server may answer and close
/// first) and never end the request; the answer.
fn unfinished_post(addr: SocketAddr, head: String, body: Vec<u8>) -> (u16, String) {
    let mut c = connect(addr, 20);
    let mut writer = c.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(&body));
    });
    let got = answer(&mut c);
    let _ = sending.join();
    got
}

#[test]
fn an_upload_is_refused_as_soon_as_it_passes_the_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(Options { max_upload: 1 << 20, ..options(tmp.path()) });
    // Chunked (no declared length), 1 MB + 64 KB sent, then the client waits without ending
    // the body: the 413 must come from the bytes counted so far, not from the body's end.
    let mut chunked = Vec::new();
    for _ in 0..17 {
        chunked.extend_from_slice(format!("{:x}\r\n", 64 << 10).as_bytes());
        chunked.extend(std::iter::repeat_n(7u8, 64 << 10));
        chunked.extend_from_slice(b"\r\n");
    }
    let (status, text) = unfinished_post(addr, upload_head(addr, "audio/wav", None), chunked);
    assert_eq!(status, 413, "{text}");
    // The same inside a form whose file never ends, its declared length within the cap's
    // allowance for a form: only counting the file while it streams finds it too large.
    let (ct, mut body) = multipart("file", "big.wav", &vec![7u8; (1 << 20) + 8192]);
    body.truncate(body.len() - 40); // the closing boundary never comes
    let (status, text) = unfinished_post(addr, upload_head(addr, &ct, Some(body.len() + 1000)), body);
    assert_eq!(status, 413, "{text}");
    wait_for("the uploads' removal", || leftovers(tmp.path()) == 0);
}

#[test]
fn a_form_cannot_make_the_server_hold_its_headers_or_other_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(Options { max_upload: 4 << 20, ..options(tmp.path()) });
    // A part whose headers never end (2 MB), and a 2 MB field before the file: each is the
    // form's own bytes, refused past 256 KB (the parser would otherwise hold them in memory).
    let endless = format!("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}", "a".repeat(2 << 20));
    let mut other = b"--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n".to_vec();
    other.extend(std::iter::repeat_n(b'n', 2 << 20));
    other
        .extend_from_slice(b"\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF");
    for body in [endless.into_bytes(), other] {
        let head = upload_head(addr, "multipart/form-data; boundary=B", Some(body.len() + 100));
        let (status, text) = unfinished_post(addr, head, body);
        assert_eq!(status, 413, "{text}");
        assert!(text.contains("form fields and headers"), "{text}");
    }
    wait_for("the uploads' removal", || leftovers(tmp.path()) == 0);
}

#[test]
fn a_refused_upload_costs_no_read_of_its_body() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(Options { workers: 1, queue: 0, ..options(tmp.path()) });
    // The one place is taken by an upload whose body comes slowly (1 KB of 1 MB so far).
    let mut slow = connect(addr, 20);
    slow.write_all(upload_head(addr, "audio/wav", Some(1 << 20)).as_bytes()).unwrap();
    slow.write_all(&[1u8; 1024]).unwrap();
    wait_for("the slow upload's file", || leftovers(tmp.path()) == 1);
    // A second upload sends its headers only: it must be answered 503 without the server
    // waiting for (or reading) its 3 MB body.
    let mut refused = connect(addr, 20);
    refused.write_all(upload_head(addr, "audio/wav", Some(3 << 20)).as_bytes()).unwrap();
    let (status, text) = answer(&mut refused);
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("busy"), "{text}");
    // A simple client sends the whole body before it reads: the answer must still reach it
    // (the server drops what comes after its answer instead of resetting the connection).
    let (status, v) = post(addr, "/api/predict", "audio/wav", &vec![1u8; 3 << 20]);
    assert_eq!(status, 503, "{v}");
    let (status, v) = post(addr, "/api/predict", "audio/wav", &vec![1u8; 5 << 20]);
    assert_eq!(status, 413, "{v}");
    drop(slow);
    wait_for("the slow upload's removal", || leftovers(tmp.path()) == 0);
    assert_eq!(get(addr, "/healthz"), (200, "ok".into()));
}

#[test]
fn silent_clients_are_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(Options { read_timeout: Duration::from_secs(1), ..options(tmp.path()) });
    // Nothing sent at all, and headers that never end (slowloris): the connection is closed.
    let mut idle = connect(addr, 20);
    answer(&mut idle);
    let mut partial = connect(addr, 20);
    partial.write_all(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n").unwrap();
    answer(&mut partial);
    // A body that stops coming: 408 with the reason, and its file removed.
    let mut stalled = connect(addr, 20);
    stalled.write_all(upload_head(addr, "audio/wav", Some(100_000)).as_bytes()).unwrap();
    stalled.write_all(&[1u8; 1000]).unwrap();
    let (status, text) = answer(&mut stalled);
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("\"error\""), "{text}");
    wait_for("the stalled upload's removal", || leftovers(tmp.path()) == 0);
    // The same on a JSON route (found by the serve-net fuzz target: hyper bounds the wait for
    // headers, not for a body, and the JSON extractor waited forever), and in a form.
    let mut stalled = connect(addr, 20);
    let head = format!(
        "POST /api/quiz/answer HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"id\":"
    );
    stalled.write_all(head.as_bytes()).unwrap();
    let (status, text) = answer(&mut stalled);
    assert_eq!(status, 408, "{text}");
    let (ct, body) = multipart("file", "a.wav", &[1u8; 5000]);
    let mut stalled = connect(addr, 20);
    stalled.write_all(upload_head(addr, &ct, Some(body.len())).as_bytes()).unwrap();
    stalled.write_all(&body[..3000]).unwrap();
    let (status, text) = answer(&mut stalled);
    assert_eq!(status, 408, "{text}");
    wait_for("the stalled form's removal", || leftovers(tmp.path()) == 0);
}

#[test]
fn open_connections_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = start(Options { max_connections: 2, ..options(tmp.path()) });
    let first = connect(addr, 20);
    let _second = connect(addr, 20);
    std::thread::sleep(Duration::from_millis(300)); // both accepted: the limit is reached
                                                    // A third connection waits, unanswered, until one of the two closes.
    let mut third = connect(addr, 1);
    third.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut buf = [0u8; 64];
    let waited = third.read(&mut buf);
    assert!(waited.is_err(), "answered past the limit: {waited:?}");
    drop(first);
    third.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (status, text) = answer(&mut third);
    assert_eq!(status, 200, "{text}");
}

#[test]
fn a_client_that_never_reads_its_answer_frees_its_connection() {
    let tmp = tempfile::tempdir().unwrap();
    // A 10 MB quiz clip: more than the two sockets' buffers hold, so writing it blocks.
    let quiz = tmp.path().join("quiz").join("jazz");
    std::fs::create_dir_all(&quiz).unwrap();
    write_wav_mono16(&quiz.join("long.wav"), &genre_clip(0, 240.0, 22050, 7), 22050).unwrap();
    let opts = Options { max_connections: 1, read_timeout: Duration::from_secs(1), ..options(tmp.path()) };
    let addr = start(Options { quiz: Some(tmp.path().join("quiz")), ..opts });
    let audio = http::get(addr, "/api/quiz/next").json()["audio"].as_str().unwrap().to_string();
    let mut stalled = connect(addr, 60);
    shrink_receive_buffer(&stalled);
    stalled.write_all(format!("GET {audio} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
    // The only connection slot is the stalled client's until its answer times out.
    let t = std::time::Instant::now();
    let r = http::get(addr, "/healthz");
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    assert!(t.elapsed() < Duration::from_secs(30), "waited {:?}", t.elapsed());
    drop(stalled);
}

/// A small receive window, so the server's writes to this client stall early.
fn shrink_receive_buffer(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 4096;
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &size as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0);
}

#[test]
fn the_quiz_leaves_out_clips_the_model_was_trained_on() {
    let tmp = tempfile::tempdir().unwrap();
    let quiz = tmp.path().join("quiz");
    let mut hashes = Vec::new();
    for (g, name) in [(0, "jazz"), (3, "metal")] {
        std::fs::create_dir_all(quiz.join(name)).unwrap();
        let clip = quiz.join(name).join("a.wav");
        write_wav_mono16(&clip, &genre_clip(g, 3.0, 22050, 7), 22050).unwrap();
        hashes.push(genre_data::hash::file_hash(&clip).unwrap());
    }
    // A model that heard the jazz clip: only the metal one is played.
    let mut model = Predictor::load(None).unwrap();
    model.members[0].0.card.trained_on = vec![hashes[0].clone()];
    let addr = start_model(model, Options { quiz: Some(quiz.clone()), ..options(tmp.path()) });
    for _ in 0..6 {
        let next = http::get(addr, "/api/quiz/next").json();
        assert_eq!((next["clips"].as_u64(), next["left_out"].as_u64()), (Some(1), Some(1)), "{next}");
        let body = serde_json::json!({ "id": next["id"], "guess": "jazz" }).to_string();
        let (status, v) = post(addr, "/api/quiz/answer", "application/json", body.as_bytes());
        assert_eq!((status, v["truth"].as_str()), (200, Some("metal")), "{v}");
    }
    // A model that heard them all has no fair quiz here: refused at start, saying why.
    let mut model = Predictor::load(None).unwrap();
    model.members[0].0.card.trained_on = hashes;
    let e = genre_server::app(model, "m".into(), Options { quiz: Some(quiz), ..options(tmp.path()) }).err().unwrap();
    assert!(e.to_string().contains("all 2 clips were in the model's training data"), "{e}");
}

#[test]
fn quiz_ids_are_opaque_served_only_and_answered_once() {
    let tmp = tempfile::tempdir().unwrap();
    let quiz = tmp.path().join("quiz");
    for (g, name) in [(0, "jazz"), (3, "metal")] {
        std::fs::create_dir_all(quiz.join(name)).unwrap();
        write_wav_mono16(&quiz.join(name).join("a.wav"), &genre_clip(g, 3.0, 22050, 7), 22050).unwrap();
    }
    let addr = start(Options { quiz: Some(quiz), ..options(tmp.path()) });
    let next = || http::get(addr, "/api/quiz/next").json();
    let answer = |id: &str| {
        let body = serde_json::json!({ "id": id, "guess": "jazz" }).to_string();
        post(addr, "/api/quiz/answer", "application/json", body.as_bytes())
    };
    // Random 128-bit ids, a new one for every clip served, and nothing else in the URL.
    let (a, b) = (next(), next());
    let id = a["id"].as_str().unwrap().to_string();
    assert!(id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert_ne!(a["id"], b["id"]);
    assert_eq!(a["audio"].as_str().unwrap(), format!("/api/quiz/clip/{id}"));
    assert_eq!(get(addr, a["audio"].as_str().unwrap()).0, 200);
    // Folder-order indices and ids never served tell nothing: 404 as JSON.
    for never in ["0", "1", "0123456789abcdef0123456789abcdef"] {
        let (status, v) = answer(never);
        assert_eq!(status, 404, "{never}: {v}");
        let (s, text) = get(addr, &format!("/api/quiz/clip/{never}"));
        assert_json_error(s, &text, 404);
    }
    // One answer per served clip: the second is refused (409) and judges nothing.
    let (status, v) = answer(&id);
    assert_eq!(status, 200, "{v}");
    let (status, v) = answer(&id);
    assert_eq!(status, 409, "{v}");
    assert!(v["error"].is_string() && v.get("truth").is_none(), "{v}");
    // Memory stays bounded: past MAX_SERVED ids, the oldest unanswered one is forgotten.
    let old = b["id"].as_str().unwrap().to_string();
    for _ in 0..4096 {
        next();
    }
    assert_eq!(answer(&old).0, 404, "an evicted id is unknown");
    assert_eq!(get(addr, &format!("/api/quiz/clip/{old}")).0, 404);
}
