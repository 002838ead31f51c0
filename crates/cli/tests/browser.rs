//! The web app in real headless Chromium (Debian's `chromium`, driven by playwright-core from
//! npm: `.ci/run` installs both; see crates/server/tests/browser/). Upload a file, wait for the
//! result, check the bar chart and the CAM picture, that the player's cursor moves; screenshots
//! (desktop and phone) are saved under target/browser-screenshots as test artifacts.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{genre, s};
use genre_audio::synth::genre_clip;
use genre_audio::wav::write_wav_mono16;

#[test]
fn the_web_app_answers_and_plays_in_headless_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script_dir = root.join("crates/server/tests/browser");
    assert!(
        script_dir.join("node_modules/playwright-core").exists() && Path::new("/usr/bin/chromium").exists(),
        "browser test needs Debian's chromium and playwright-core: apt-get install chromium; \
         npm ci --prefix crates/server/tests/browser (what .ci/run does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("song.wav");
    write_wav_mono16(&clip, &genre_clip(1, 12.0, 22050, 3), 22050).unwrap();
    let mut server = genre()
        .args(["serve", "--addr", "127.0.0.1:0", "--tmp", s(dir.path())])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The server prints its address once it listens.
    let mut line = String::new();
    BufReader::new(server.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let shots = root.join("target/browser-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node").arg(script_dir.join("app.test.mjs")).args([&url, s(&clip), s(&shots)]).output();
    let _ = server.kill();
    let out = out.expect("node runs");
    println!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser test failed");
    assert!(shots.join("app-phone.png").exists() && shots.join("app-desktop.png").exists());
}
