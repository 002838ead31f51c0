//! `genre predict` and `genre features` from the outside: the default model, batches with bad
//! files, bad model files, and the default model's agreement between our features and the table.

mod common;

use std::collections::HashMap;

use common::{genre, run_ok, s, shared};
use genre_audio::synth::genre_clip;
use genre_audio::wav::write_wav_mono16;

#[test]
fn default_model_predicts_out_of_the_box_and_skips_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let good1 = dir.path().join("a.wav");
    let good2 = dir.path().join("b.wav");
    write_wav_mono16(&good1, &genre_clip(2, 12.0, 22050, 1), 22050).unwrap();
    write_wav_mono16(&good2, &genre_clip(0, 4.0, 44100, 2), 44100).unwrap();
    std::fs::write(dir.path().join("broken.mp3"), "not audio at all".repeat(50)).unwrap();
    let out = genre().args(["predict", s(dir.path()), "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a bad file in the batch must give exit code 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.mp3"), "the failure must name the file: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let preds = v["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 2, "the good files are still predicted");
    assert_eq!(v["classes"].as_array().unwrap().len(), 10, "the default model knows the 10 GTZAN genres");
    for p in preds {
        let total: f64 = p["probabilities"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-3);
        assert!(!p["segments"].as_array().unwrap().is_empty());
    }
    // Text and CSV forms.
    let txt = run_ok(&["predict", s(&good1), "--segments"]);
    let txt = String::from_utf8_lossy(&txt.stdout);
    assert!(txt.contains("a.wav:") && txt.contains('%') && txt.contains(" s "), "{txt}");
    let csv = run_ok(&["predict", s(&good1), "--csv"]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.starts_with("file,start,end,genre,blues,classical"), "{csv}");
}

#[test]
fn a_bad_model_file_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("a.wav");
    write_wav_mono16(&clip, &genre_clip(1, 2.0, 22050, 1), 22050).unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    let default_card = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gtzan57/model.json");
    std::fs::copy(&default_card, model.join("model.json")).unwrap();
    std::fs::write(model.join("model.safetensors"), b"garbage, not weights").unwrap();
    let out = genre().args(["predict", s(&clip), "--model", s(&model)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("model.safetensors") && err.contains("not a valid model file"), "{err}");
    std::fs::write(model.join("model.json"), "{\"hello\": 1}").unwrap();
    let out = genre().args(["predict", s(&clip), "--model", s(&model)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a genre model card"));
}

/// The default model gives the same genre from our Rust features of the 101 real clips as from
/// their rows in the published table (librosa's features).
#[test]
fn default_model_agrees_on_rust_features_and_table_rows() {
    let gtzan = shared().join("data/gtzan");
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.csv");
    run_ok(&["features", s(&gtzan.join("audio")), "--kind", "gtzan57", "--out", s(&ours), "--quiet"]);
    let predict = |table: &std::path::Path| -> HashMap<String, String> {
        let out = run_ok(&["predict", "--features", s(table), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["file"].as_str().unwrap().replace(".flac", "").replace(".wav", ""),
                    p["genre"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let from_ours = predict(&ours);
    let from_table = predict(&gtzan.join("features_30_sec.csv"));
    assert_eq!(from_ours.len(), 101);
    let same = from_ours.iter().filter(|(k, g)| from_table.get(*k) == Some(g)).count();
    println!("default model: same genre from Rust features and table rows on {same}/101 clips");
    assert!(same >= 99, "only {same}/101 agree");
}

/// The timeline covers the whole file (a last window ends at the file's end), and
/// `--max-windows N` gives at most N windows.
#[test]
fn the_timeline_covers_the_file_and_max_windows_is_a_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("a.wav");
    genre_audio::wav::write_wav_mono16(&clip, &genre_audio::synth::genre_clip(1, 10.0, 22050, 3), 22050).unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["predict", s(&clip), "--json"];
        all.extend_from_slice(args);
        serde_json::from_slice(&run_ok(&all).stdout).unwrap()
    };
    let segs = |v: &serde_json::Value| v["predictions"][0]["segments"].as_array().unwrap().clone();
    let all = segs(&json(&[]));
    let end = all.last().unwrap()["end"].as_f64().unwrap();
    assert!((end - 10.0).abs() < 1e-3, "timeline ends at {end} s of 10");
    for n in ["1", "2", "3", "5"] {
        let some = segs(&json(&["--max-windows", n]));
        assert!(some.len() <= n.parse().unwrap(), "--max-windows {n}: {} windows", some.len());
    }
    let tags = run_ok(&["tag", s(&clip), "--json", "--segments"]);
    let v: serde_json::Value = serde_json::from_slice(&tags.stdout).unwrap();
    let last = v["files"][0]["segments"].as_array().unwrap().last().unwrap()["end"].as_f64().unwrap();
    assert!((last - 10.0).abs() < 1e-3, "tag timeline ends at {last} s of 10");
}

/// The default ensemble runs its members side by side and decodes while musicnn works, on
/// threads of its own: with a single rayon thread (as in a pinned container) and inside `genre
/// scan`'s rayon loop, none of them may wait for a pool that has no thread left to give.
#[test]
fn one_rayon_thread_neither_deadlocks_predict_nor_scan() {
    let dir = tempfile::tempdir().unwrap();
    for (g, name) in [(2, "a.wav"), (5, "b.wav")] {
        write_wav_mono16(&dir.path().join(name), &genre_clip(g, 20.0, 22050, 3), 22050).unwrap();
    }
    let db = dir.path().join("lib.sqlite");
    for args in [vec!["predict", s(dir.path()), "--json"], vec!["scan", s(dir.path()), "--db", s(&db), "-q"]] {
        let mut child =
            genre().args(&args).env("RAYON_NUM_THREADS", "1").stdout(std::process::Stdio::null()).spawn().unwrap();
        let t = std::time::Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if t.elapsed() > std::time::Duration::from_secs(120) {
                child.kill().unwrap();
                panic!("genre {} did not finish in 120 s with one rayon thread", args[0]);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(status.success(), "genre {}: {status}", args[0]);
    }
}
