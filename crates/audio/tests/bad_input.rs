//! Bad input never panics: a clear error naming the file and the cause, or a correct result.

use std::path::{Path, PathBuf};

use genre_audio::synth::tone;
use genre_audio::wav::{write_wav, WavFormat};
use genre_audio::{load, AudioError, LoadOptions};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn expect_error(path: &Path) -> String {
    let err = load(path, LoadOptions::default()).expect_err(&format!("{} must be refused", path.display()));
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "error must name the file: {msg}");
    assert_eq!(err.path(), Some(path));
    msg
}

#[test]
fn empty_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let msg = expect_error(&write(dir.path(), "empty.wav", b""));
    assert!(msg.contains("empty file"), "{msg}");
}

#[test]
fn text_renamed_mp3_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "notes.mp3", "this is not audio at all, just some text\n".repeat(100).as_bytes());
    let msg = expect_error(&p);
    assert!(msg.contains("not a recognised audio format") || msg.contains("no audio could be decoded"), "{msg}");
}

#[test]
fn missing_file_is_refused() {
    let msg = expect_error(Path::new("/nonexistent/song.flac"));
    assert!(msg.contains("cannot open"), "{msg}");
}

#[test]
fn truncated_wav_keeps_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("full.wav");
    write_wav(&p, &tone(440.0, 1.0, 22050, 0.5), 22050, 1, WavFormat::Pcm16).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let cut = write(dir.path(), "cut.wav", &bytes[..bytes.len() / 2]);
    match load(&cut, LoadOptions::default()) {
        Ok(a) => {
            assert!(!a.samples.is_empty() && a.samples.len() < 22050, "got {} samples", a.samples.len());
            assert!(a.samples.iter().all(|v| v.is_finite()));
        }
        Err(e) => assert!(e.to_string().contains("cut.wav"), "{e}"),
    }
    // A header with nothing after it.
    let header_only = write(dir.path(), "header.wav", &bytes[..20]);
    expect_error(&header_only);
}

#[test]
fn truncated_mp3_keeps_what_is_there() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/clip30_22050_mono.mp3");
    let bytes = std::fs::read(&src).expect("shared reference mp3");
    let dir = tempfile::tempdir().unwrap();
    let cut = write(dir.path(), "cut.mp3", &bytes[..bytes.len() / 3 + 17]);
    let a = load(&cut, LoadOptions::default()).expect("a truncated mp3 decodes up to the cut");
    let secs = a.samples.len() as f64 / 22050.0;
    assert!((8.0..12.0).contains(&secs), "about a third of 30 s expected, got {secs:.2} s");
}

#[test]
fn zero_length_audio_is_empty_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("zero.wav");
    write_wav(&p, &[], 44100, 2, WavFormat::Pcm16).unwrap();
    let a = load(&p, LoadOptions::default()).unwrap();
    assert!(a.samples.is_empty());
}

#[test]
fn invalid_offset_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.wav");
    write_wav(&p, &tone(440.0, 1.0, 22050, 0.5), 22050, 1, WavFormat::Pcm16).unwrap();
    let err = load(&p, LoadOptions { offset: -1.0, ..LoadOptions::default() }).unwrap_err();
    assert!(matches!(err, AudioError::InvalidRequest { .. }), "{err}");
    // An offset past the end gives empty audio, as librosa does.
    let a = load(&p, LoadOptions { offset: 5.0, ..LoadOptions::default() }).unwrap();
    assert!(a.samples.is_empty());
}
