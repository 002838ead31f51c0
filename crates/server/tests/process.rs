//! The real `genre serve` process: what only a process shows (signals, the exit code). The
//! binary is the one built next to this test (`target/release/genre` for `cargo test
//! --release`: `cargo build --release` first, or `cargo test --workspace --release`, which
//! builds it), or `$GENRE_BIN`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use genre_audio::synth::genre_clip;
use genre_audio::wav::write_wav_mono16;
use genre_testkit::http;

fn genre_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("GENRE_BIN") {
        return p.into();
    }
    // target/<profile>/deps/process-HASH -> target/<profile>/genre
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(Path::parent).unwrap().join("genre");
    assert!(bin.exists(), "{}: build it first (cargo build --release)", bin.display());
    bin
}

/// A running `genre serve`; killed if the test ends early. Its stderr is kept for messages.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(tmp: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(genre_bin())
            .args(["serve", "--addr", "127.0.0.1:0", "--tmp"])
            .arg(tmp)
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let addr = line.trim().trim_end_matches('/').rsplit("//").next().unwrap().parse().expect(&line);
        // Keep reading stderr, so the server never writes into a full or closed pipe.
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = err.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        Server { child, addr, log }
    }

    fn healthz(&self) -> String {
        http::get(self.addr, "/healthz").text()
    }

    /// Wait for the exit (at most 60 s): its status.
    fn wait(&mut self) -> std::process::ExitStatus {
        let t = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(t.elapsed() < Duration::from_secs(60), "still running 60 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn upload_head(addr: SocketAddr, length: usize) -> String {
    format!("POST /api/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: audio/wav\r\nContent-Length: {length}\r\n\r\n")
}

/// Close with a TCP reset (SO_LINGER 0) rather than a FIN: what a killed client or a middlebox
/// does.
fn reset(c: TcpStream) {
    use std::os::fd::AsRawFd;
    let l = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid socket and a correctly sized option value.
    let r = unsafe {
        libc::setsockopt(
            c.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "SO_LINGER");
    drop(c);
}

/// Files and folders under `dir`, recursively.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        all.push(e.path());
        if e.path().is_dir() {
            all.extend(entries(&e.path()));
        }
    }
    all
}

#[test]
fn half_sent_uploads_then_resets_do_not_kill_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(tmp.path(), &[]);
    let addr = server.addr;
    for round in 0..5 {
        // 1 MB of a declared 10 MB, then a reset: the server's read fails mid-body and the
        // answer it then writes goes to a dead socket (SIGPIPE killed it, exit 141).
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(upload_head(addr, 10 << 20).as_bytes()).unwrap();
        c.write_all(&vec![3u8; 1 << 20]).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        reset(c);
        // An upload refused at once (413, declared too large), reset before its answer is read.
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(upload_head(addr, 1 << 30).as_bytes()).unwrap();
        reset(c);
        // The page asked for and the connection reset while the answer is on its way.
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(format!("GET /app.js HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
        let mut first = [0u8; 16];
        let _ = c.read(&mut first);
        reset(c);
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "round {round}: server died: {}",
            server.log.lock().unwrap()
        );
        assert_eq!(server.healthz(), "ok", "round {round}");
    }
    // Nothing left of the cut-off uploads.
    std::thread::sleep(Duration::from_millis(200));
    let left: Vec<_> = entries(tmp.path()).into_iter().filter(|p| p.is_file()).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn sigterm_mid_analysis_leaves_no_upload_and_no_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let audio = tempfile::tempdir().unwrap(); // our own files, apart from the server's folder
    let long = audio.path().join("long.wav");
    write_wav_mono16(&long, &genre_clip(4, 240.0, 22050, 1), 22050).unwrap();
    let wav = std::fs::read(&long).unwrap();
    let mut server = Server::start(tmp.path(), &["--grace", "1"]);
    let addr = server.addr;
    // An analysis under way: a 4-minute upload, sent whole.
    let mut analysed = TcpStream::connect(addr).unwrap();
    analysed.write_all(upload_head(addr, wav.len()).as_bytes()).unwrap();
    analysed.write_all(&wav).unwrap();
    // And an upload still arriving (1 KB of 1 MB), which the grace period will not see end.
    let mut arriving = TcpStream::connect(addr).unwrap();
    arriving.write_all(upload_head(addr, 1 << 20).as_bytes()).unwrap();
    arriving.write_all(&[1u8; 1024]).unwrap();
    let files = || entries(tmp.path()).into_iter().filter(|p| p.is_file()).count();
    let t = Instant::now();
    while files() < 2 {
        assert!(t.elapsed() < Duration::from_secs(30), "the uploads never reached the folder");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200)); // the 4-minute file is being analysed
                                                    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let status = server.wait();
    assert_eq!(status.code(), Some(0), "exit after SIGTERM: {status:?}; log: {}", server.log.lock().unwrap());
    let left = entries(tmp.path());
    assert!(left.is_empty(), "left behind: {left:?}");
    // The finished or cancelled requests: an answer or a closed connection, never a hang.
    for mut c in [analysed, arriving] {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut sink = Vec::new();
        let _ = c.read_to_end(&mut sink);
    }
}
