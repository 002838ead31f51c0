//! `genre scan` end to end: resumable, safe against kill -9, sharded, exported and merged, and
//! `--write-tags` changing the tags only.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{genre, run_ok, s};

/// `n` classes x `per` synthetic clips of `secs` seconds under `dir`.
fn library(dir: &Path, n: usize, per: usize, secs: f64) -> Vec<PathBuf> {
    genre_audio::synth::write_genre_folder(dir, n, per, secs, 22050, 7).unwrap()
}

fn rows(db: &Path) -> Vec<(String, Option<String>, Option<String>, Option<String>)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c.prepare("SELECT path, genre, tags, error FROM tracks ORDER BY path").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_rerun_skips_what_is_done_and_redoes_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("lib");
    let files = library(&lib, 2, 2, 4.0);
    let db = tmp.path().join("lib.sqlite");
    let out = run_ok(&["scan", s(&lib), "--db", s(&db), "--top-tags", "3", "-q"]);
    assert!(stderr(&out).contains("4 to scan"), "{}", stderr(&out));
    let first = rows(&db);
    assert_eq!(first.len(), 4);
    for (path, genre, tags, error) in &first {
        assert!(error.is_none(), "{path}: {error:?}");
        assert!(genre.is_some(), "{path}");
        let tags: Vec<(String, f32)> = serde_json::from_str(tags.as_deref().unwrap()).unwrap();
        assert_eq!(tags.len(), 3, "{path}");
    }
    // Touched (mtime only): same content hash, still done. Changed: scanned again.
    let same = std::fs::read(&files[0]).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&files[0], &same).unwrap();
    let mut changed = std::fs::read(&files[1]).unwrap();
    let n = changed.len();
    changed[n - 1000..].fill(0);
    std::fs::write(&files[1], &changed).unwrap();
    let out = run_ok(&["scan", s(&lib), "--db", s(&db), "--top-tags", "3", "-q"]);
    assert!(stderr(&out).contains("3 already done, 1 to scan"), "{}", stderr(&out));
    assert_eq!(rows(&db).len(), 4);
}

#[test]
fn a_failing_file_is_a_row_with_its_error_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("lib");
    library(&lib, 1, 1, 3.0);
    std::fs::write(lib.join("bad.mp3"), b"not audio at all").unwrap();
    let db = tmp.path().join("lib.sqlite");
    let out = genre().args(["scan", s(&lib), "--db", s(&db), "--top-tags", "0", "-q"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = rows(&db);
    let bad = r.iter().find(|t| t.0.ends_with("bad.mp3")).expect("a row for the bad file");
    assert!(bad.1.is_none() && bad.3.as_deref().is_some_and(|e| !e.is_empty()), "{bad:?}");
    assert!(stderr(&out).contains("bad.mp3"), "{}", stderr(&out));
}

#[test]
fn kill_9_loses_at_most_the_batch_in_flight_and_the_rerun_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("lib");
    library(&lib, 3, 6, 3.0);
    let db = tmp.path().join("lib.sqlite");
    let args = ["scan", s(&lib), "--db", s(&db), "--top-tags", "0", "--batch", "2", "-q"];
    let mut child = genre().args(args).spawn().unwrap();
    let start = Instant::now();
    // Kill once a few batches are committed (read through SQLite, as any reader would).
    loop {
        let n = rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT count(*) FROM tracks", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if n >= 4 || start.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let c = rusqlite::Connection::open(&db).unwrap();
    let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let kept = rows(&db).len();
    assert!((4..18).contains(&kept), "{kept} rows kept of 18");
    let out = run_ok(&args);
    assert!(stderr(&out).contains(&format!("{kept} already done")), "{}", stderr(&out));
    assert_eq!(rows(&db).len(), 18);
}

#[test]
fn shards_split_the_library_and_their_parts_merge_back() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("lib");
    library(&lib, 2, 3, 3.0);
    let parts = tmp.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    let mut seen = Vec::new();
    for i in 0..2 {
        let db = tmp.path().join(format!("shard{i}.sqlite"));
        let part = parts.join(format!("part-{i}.parquet"));
        // Shard 1 finds its index through Slurm's variables, as an array job would.
        let mut cmd = genre();
        cmd.args(["scan", s(&lib), "--db", s(&db), "--top-tags", "0", "-q", "--export", s(&part)]);
        if i == 0 {
            cmd.args(["--shard", "0/2"]);
        } else {
            cmd.args(["--shard", "auto"]).env("SLURM_ARRAY_TASK_ID", "1").env("SLURM_ARRAY_TASK_COUNT", "2");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        seen.extend(rows(&db).into_iter().map(|r| r.0));
    }
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((n, seen.len()), (6, 6), "each track in exactly one shard");
    let all = tmp.path().join("all.sqlite");
    let csv = tmp.path().join("all.csv");
    run_ok(&["scan", "--merge", s(&parts), "--db", s(&all), "--export", s(&csv)]);
    let merged: Vec<String> = rows(&all).into_iter().map(|r| r.0).collect();
    assert_eq!(merged, seen);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 7, "{text}");
    assert!(text.starts_with("path,size,mtime_ns,hash,duration,genre,probabilities,tags,model_id,error"));
}

fn decoded(p: &Path) -> Vec<f32> {
    genre_audio::load(p, genre_audio::LoadOptions { sr: None, offset: 0.0, duration: None }).unwrap().samples
}

fn genre_tag(p: &Path) -> Option<String> {
    use lofty::prelude::*;
    let f = lofty::read_from_path(p).unwrap();
    f.primary_tag().and_then(|t| t.genre().map(|g| g.into_owned()))
}

#[test]
fn write_tags_changes_the_tags_and_not_the_audio() {
    let reference = genre_testkit::reference_dir();
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    let mut files = Vec::new();
    for ext in ["mp3", "flac", "ogg", "wav"] {
        let f = lib.join(format!("clip.{ext}"));
        std::fs::copy(reference.join(format!("clip30_22050_mono.{ext}")), &f).unwrap();
        files.push(f);
    }
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let db = tmp.path().join("lib.sqlite");
    // The dry run lists every file and writes nothing.
    let out = run_ok(&["scan", s(&lib), "--db", s(&db), "--top-tags", "0", "-q", "--write-tags", "--dry-run"]);
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(listed.lines().filter(|l| l.starts_with("would tag")).count(), 4, "{listed}");
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(&std::fs::read(f).unwrap(), b, "{} changed in a dry run", f.display());
    }
    let audio: Vec<Vec<f32>> = files.iter().map(|f| decoded(f)).collect();
    let out = run_ok(&["scan", s(&lib), "--db", s(&db), "--top-tags", "0", "-q", "--write-tags"]);
    let genres = rows(&db);
    for (f, a) in files.iter().zip(&audio) {
        let row = genres.iter().find(|r| Path::new(&r.0) == f).unwrap();
        assert_eq!(genre_tag(f), row.1, "{}: {}", f.display(), stderr(&out));
        assert_eq!(&decoded(f), a, "{}: the audio changed", f.display());
    }
    // Tagged files are not rescanned: the rows follow the files' new size and hash.
    let out = run_ok(&["scan", s(&lib), "--db", s(&db), "--top-tags", "0", "-q", "--write-tags"]);
    assert!(stderr(&out).contains("4 already done, 0 to scan"), "{}", stderr(&out));
    assert!(stderr(&out).contains("0 tags written"), "{}", stderr(&out));
}

#[test]
fn a_bad_shard_is_refused_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["2/2", "x", "1/0"] {
        let out = genre().args(["scan", s(tmp.path()), "--db", "x.sqlite", "--shard", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_genre"))
        .args(["scan", s(tmp.path()), "--db", "x.sqlite", "--shard", "auto"])
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("SLURM_ARRAY_TASK_ID"), "{}", stderr(&out));
}
