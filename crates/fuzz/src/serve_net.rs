//! The server over real loopback TCP (its own accept loop, connection limits, timeouts and
//! lingering close; in process): each input is a script of requests, each on a fresh
//! connection, to every route (predict raw and as a form, the quiz's three routes, the model,
//! the app's files, any request line), with bodies chunked or not, lying about their length,
//! sent in small pieces, pausing past the read timeout, or cut off by a reset mid-body.
//!
//! A script is a list of `ROUTE FLAGS LEN_HI LEN_LO BODY[LEN]` records. Checked after each:
//! an answer comes (no hang), never a 500, and an error with a body has a JSON `error`; after
//! the script: the server still answers `/healthz`, and no upload file is left.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The server's read timeout: a pause longer than this in a body gets a 408.
const READ_TIMEOUT: Duration = Duration::from_millis(300);
const MAX_UPLOAD: usize = 256 << 10;

struct Net {
    addr: SocketAddr,
    tmp: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

fn server() -> &'static Net {
    static NET: OnceLock<Net> = OnceLock::new();
    NET.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let quiz = tempfile::tempdir().expect("quiz dir").keep();
        for (g, name) in [(0, "a"), (2, "b")] {
            std::fs::create_dir_all(quiz.join(name)).expect("quiz genre");
            let clip = genre_audio::synth::genre_clip(g, 1.0, 8000, 3);
            genre_audio::wav::write_wav_mono16(&quiz.join(name).join("c.wav"), &clip, 8000).expect("quiz clip");
        }
        let opts = genre_server::Options {
            tmp: tmp.path().to_path_buf(),
            max_upload: MAX_UPLOAD,
            workers: 1,
            queue: 2,
            timeout: Duration::from_secs(4),
            max_connections: 16,
            read_timeout: READ_TIMEOUT,
            grace: Duration::from_secs(1),
            quiz: Some(quiz),
            ..Default::default()
        };
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("loopback");
        let addr = listener.local_addr().expect("address");
        let model = crate::upload::tiny_cnn();
        rt.spawn(genre_server::serve_on(listener, model, "fuzz".into(), opts, std::future::pending()));
        Net { addr, tmp, _rt: rt }
    })
}

/// One request of a script.
struct Step<'a> {
    route: u8,
    flags: u8,
    body: &'a [u8],
}

const CHUNKED: u8 = 1;
const LIE: u8 = 2; // declare more than is sent
const RESET: u8 = 4;
const PAUSE: u8 = 8;
const PIECES: u8 = 16;
const VARIANT: u8 = 32;

fn steps(b: &[u8]) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    let mut rest = b;
    while rest.len() >= 4 && out.len() < 6 {
        let len = (u16::from_be_bytes([rest[2], rest[3]]) as usize).min(rest.len() - 4);
        out.push(Step { route: rest[0], flags: rest[1], body: &rest[4..4 + len] });
        rest = &rest[4 + len..];
    }
    out
}

pub fn run(b: &[u8], _dir: &Path) {
    let s = server();
    let mut served_id = String::from("0");
    for step in steps(b) {
        if let Some((status, text)) = send(s.addr, &step, &served_id) {
            check(status, &text);
            if let Some(id) = quiz_id(&text) {
                served_id = id;
            }
        }
    }
    let (status, text) = exchange(s.addr, b"GET /healthz HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n", &[], 0);
    assert!(status == 200 && text.ends_with("ok"), "the server stopped answering: {status} {text}");
    // Cut-off requests may still be analysed for a moment; then nothing may be left.
    let t = Instant::now();
    while files(s.tmp.path()) > 0 {
        assert!(t.elapsed() < Duration::from_secs(4), "{} upload files left", files(s.tmp.path()));
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The request of a step: (head, body). `id` is the last quiz id served.
fn request(step: &Step, id: &str) -> (String, Vec<u8>) {
    let text = String::from_utf8_lossy(step.body);
    let (method, path, ctype, body): (&str, String, &str, Vec<u8>) = match step.route % 9 {
        0 => ("POST", "/api/predict".into(), "audio/wav", step.body.to_vec()),
        1 => {
            let name = if step.flags & VARIANT != 0 {
                "n".repeat(step.body.first().copied().unwrap_or(0) as usize * 2000) + ".wav"
            } else {
                "clip.wav".into()
            };
            let (ct, form) = form(&name, step.body);
            return head_and_body(step, "POST", "/api/predict", &ct, form);
        }
        2 => ("GET", "/api/quiz/next".into(), "", vec![]),
        3 => {
            let id = if step.flags & VARIANT != 0 { hex(step.body) } else { id.to_string() };
            ("GET", format!("/api/quiz/clip/{id}"), "", vec![])
        }
        4 => {
            let body = if step.flags & VARIANT != 0 {
                step.body.to_vec()
            } else {
                serde_json::json!({ "id": id, "guess": text }).to_string().into_bytes()
            };
            ("POST", "/api/quiz/answer".into(), "application/json", body)
        }
        5 => ("GET", "/api/model".into(), "", vec![]),
        6 => {
            let files = ["/", "/app.js", "/style.css", "/sw.js", "/manifest.webmanifest", "/icon.svg"];
            let path = if step.flags & VARIANT != 0 {
                format!("/{}", hex(step.body))
            } else {
                files[step.body.len() % 6].into()
            };
            ("GET", path, "", vec![])
        }
        7 => ("POST", format!("/api/predict?class={}", hex(step.body)), "audio/wav", step.body.to_vec()),
        // Anything as the request line and headers.
        _ => return (format!("{text}\r\n\r\n"), vec![]),
    };
    head_and_body(step, method, &path, ctype, body)
}

fn head_and_body(step: &Step, method: &str, path: &str, ctype: &str, body: Vec<u8>) -> (String, Vec<u8>) {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: f\r\nConnection: close\r\n");
    if !ctype.is_empty() {
        head += &format!("Content-Type: {ctype}\r\n");
    }
    if method == "GET" {
        return (head + "\r\n", vec![]);
    }
    if step.flags & CHUNKED != 0 {
        let mut chunked = Vec::new();
        for piece in body.chunks(4096) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        if step.flags & LIE == 0 {
            chunked.extend_from_slice(b"0\r\n\r\n");
        }
        return (head + "Transfer-Encoding: chunked\r\n\r\n", chunked);
    }
    let declared = body.len() + if step.flags & LIE != 0 { 1000 } else { 0 };
    (head + &format!("Content-Length: {declared}\r\n\r\n"), body)
}

/// Send a step; its answer, or `None` when the step cuts its connection off.
fn send(addr: SocketAddr, step: &Step, id: &str) -> Option<(u16, String)> {
    let (head, body) = request(step, id);
    if step.flags & RESET != 0 {
        reset_mid_body(addr, head.as_bytes(), &body);
        return None;
    }
    let pause = if step.flags & PAUSE != 0 { READ_TIMEOUT.as_millis() as u64 + 50 } else { 0 };
    let piece = if step.flags & PIECES != 0 { 512 } else { usize::MAX };
    Some(exchange_in_pieces(addr, head.as_bytes(), &body, pause, piece))
}

fn exchange(addr: SocketAddr, head: &[u8], body: &[u8], pause_ms: u64) -> (u16, String) {
    exchange_in_pieces(addr, head, body, pause_ms, usize::MAX)
}

/// Write the request (the body in pieces, pausing half-way), read the whole answer. Writes may
/// fail once the server has answered early; reading must not hang.
fn exchange_in_pieces(addr: SocketAddr, head: &[u8], body: &[u8], pause_ms: u64, piece: usize) -> (u16, String) {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut w = c.try_clone().expect("socket");
    let (head, body) = (head.to_vec(), body.to_vec());
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        w.write_all(&head)?;
        let (first, second) = body.split_at(if pause_ms > 0 { body.len() / 2 } else { body.len() });
        for (i, part) in [first, second].into_iter().enumerate() {
            if i == 1 && pause_ms > 0 {
                std::thread::sleep(Duration::from_millis(pause_ms));
            }
            for p in part.chunks(piece.max(1)) {
                w.write_all(p)?;
                if piece < usize::MAX {
                    std::thread::sleep(Duration::from_millis(1)); // a slow sender
                }
            }
        }
        Ok(())
    });
    let mut got = Vec::new();
    if let Err(e) = c.read_to_end(&mut got) {
        assert!(e.kind() == std::io::ErrorKind::ConnectionReset, "no answer: {e}");
    }
    let _ = writer.join();
    let text = String::from_utf8_lossy(&got).into_owned();
    (text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0), text)
}

/// Half the body, then a reset: a request answered first on the same connection leaves unread
/// input behind, so closing the socket sends a reset rather than a FIN.
fn reset_mid_body(addr: SocketAddr, head: &[u8], body: &[u8]) {
    let mut c = TcpStream::connect(addr).expect("connect");
    let _ = c.write_all(b"GET /healthz HTTP/1.1\r\nHost: f\r\n\r\n");
    let _ = c.write_all(head);
    let _ = c.write_all(&body[..body.len() / 2]);
    std::thread::sleep(Duration::from_millis(20));
}

fn check(status: u16, text: &str) {
    // Hyper itself refuses a malformed request line or headers without a body (and no answer
    // at all is fine for garbage it cannot parse).
    if status == 0 {
        return;
    }
    assert!(status != 500, "500: {text}");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    if status >= 400 && !body.is_empty() && !text.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let v: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
        assert!(v["error"].is_string(), "{status}: {text}");
    }
}

fn quiz_id(text: &str) -> Option<String> {
    let body = text.split_once("\r\n\r\n")?.1;
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(v.get("audio")?.as_str()?.rsplit('/').next()?.to_string())
}

fn hex(b: &[u8]) -> String {
    b.iter().take(40).map(|x| format!("{x:02x}")).collect()
}

fn form(name: &str, data: &[u8]) -> (String, Vec<u8>) {
    let mut b =
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n").into_bytes();
    b.extend_from_slice(data);
    b.extend_from_slice(b"\r\n--XyZ--\r\n");
    ("multipart/form-data; boundary=XyZ".into(), b)
}

fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { files(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

/// Scripts: every route once with a small WAV, uploads cut off, paused, in pieces, lying about
/// their length, a giant name, and a quiz round answered twice.
pub fn seeds(wav: &[u8]) -> Vec<Vec<u8>> {
    let rec = |route: u8, flags: u8, body: &[u8]| {
        let mut r = vec![route, flags];
        r.extend_from_slice(&(body.len().min(u16::MAX as usize) as u16).to_be_bytes());
        r.extend_from_slice(&body[..body.len().min(u16::MAX as usize)]);
        r
    };
    let wav = &wav[..wav.len().min(16 << 10)];
    vec![
        [rec(0, 0, wav), rec(1, 0, wav), rec(7, 0, b"b")].concat(),
        [rec(2, 0, b""), rec(3, 0, b""), rec(4, 0, b"a"), rec(4, 0, b"b")].concat(),
        [rec(5, 0, b""), rec(6, 0, b"xx"), rec(6, VARIANT, b"nope"), rec(8, 0, b"BREW /pot HTTP/1.1")].concat(),
        [rec(0, RESET, wav), rec(1, RESET | CHUNKED, wav), rec(0, PAUSE, wav)].concat(),
        [rec(0, PIECES | CHUNKED, wav), rec(0, LIE, wav), rec(1, VARIANT, &[150]), rec(4, VARIANT, b"{\"id\":")]
            .concat(),
    ]
}
