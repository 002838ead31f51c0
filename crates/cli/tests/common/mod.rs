//! Helpers for tests that drive the `genre` binary end to end.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn genre() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genre"))
}

/// Run `genre args...`; returns the output, asserting the exit code.
pub fn run_ok(args: &[&str]) -> Output {
    let out = genre().args(args).output().expect("genre runs");
    assert!(out.status.success(), "genre {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

#[allow(unused_imports)]
pub use genre_testkit::shared_dir as shared;

pub fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A multi-label manifest `root/manifest.csv` of synthetic clips: 3 tags, `per_pair` clips of
/// each tag alone and of each pair of tags mixed, `secs` long, two clips an album.
pub fn multi_label_manifest(root: &Path, secs: f64, per_pair: usize) -> std::path::PathBuf {
    use genre_audio::synth::{genre_clip, SYNTH_GENRE_NAMES};
    let mut rows = vec!["path,labels,group".to_string()];
    let tags = &SYNTH_GENRE_NAMES[..3];
    let mut k = 0;
    for a in 0..3 {
        for b in a..3 {
            for _ in 0..per_pair {
                let mut clip = genre_clip(a, secs, 22050, 100 + k);
                if b != a {
                    for (x, y) in clip.iter_mut().zip(genre_clip(b, secs, 22050, 200 + k)) {
                        *x = 0.5 * (*x + y);
                    }
                }
                let name = format!("clip{k:03}.wav");
                genre_audio::wav::write_wav_mono16(&root.join(&name), &clip, 22050).unwrap();
                let labels = if a == b { tags[a].to_string() } else { format!("{}|{}", tags[a], tags[b]) };
                rows.push(format!("{name},{labels},album{}", k / 2));
                k += 1;
            }
        }
    }
    let manifest = root.join("manifest.csv");
    std::fs::write(&manifest, rows.join("\n")).unwrap();
    manifest
}
