//! End to end on synthetic genres made by the project's generator: every model family learns,
//! training resumes after kill -9 with the same result, multi-label tagging works.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{genre, multi_label_manifest, read_json, run_ok, s};
use genre_audio::synth::write_genre_folder;

/// Track accuracy on both held-out sides must be well above chance (4 classes: chance 0.25).
const MIN_TRACK_ACC: f64 = 0.75;

fn train(data: &Path, model: &str, out: &Path, cache: &Path, extra: &[&str]) {
    let mut args = vec!["train", s(data), "--model", model, "--out", s(out), "--cache", s(cache), "--quiet"];
    args.extend_from_slice(extra);
    run_ok(&args);
}

#[test]
fn every_model_family_learns_synthetic_genres() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("music");
    write_genre_folder(&data, 4, 6, 3.0, 22050, 11).unwrap();
    let cache = dir.path().join("cache");
    // Small batches: batch-norm running statistics need enough steps on so little data.
    for (model, window, epochs) in
        [("cnn", "1", "6"), ("resnet", "1", "6"), ("lstm", "1", "8"), ("crnn", "1", "6"), ("features", "1.5", "12")]
    {
        let out = dir.path().join(model);
        train(
            &data,
            model,
            &out,
            &cache,
            &["--epochs", epochs, "--batch", "8", "--window", window, "--valid-frac", "0.25", "--test-frac", "0.25"],
        );
        let card = read_json(&out.join("model.json"));
        for part in ["valid", "test"] {
            let acc = card["scores"][part]["tracks"]["accuracy"].as_f64().unwrap();
            let split = card["scores"][part]["split"].as_str().unwrap();
            println!("{model}: {part} track accuracy {acc:.3} ({split})");
            assert_eq!(split, "grouped split");
            assert!(acc >= MIN_TRACK_ACC, "{model} {part}: track accuracy {acc} < {MIN_TRACK_ACC}");
        }
        for f in [
            "metrics.csv",
            "metrics.jsonl",
            "learning_curve_loss.png",
            "confusion_valid.png",
            "eval_test.md",
            "model.safetensors",
            "config.json",
            "split.json",
        ] {
            assert!(out.join(f).exists(), "{model}: {f} missing");
        }
        // The trained model predicts through the CLI.
        let clip = data.join("drone/drone.000.wav");
        let p = run_ok(&["predict", s(&clip), "--model", s(&out), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&p.stdout).unwrap();
        assert!(v["predictions"][0]["probabilities"].as_array().unwrap().len() == 4);
        // Convolutional families explain themselves over time and frequency.
        if matches!(model, "cnn" | "resnet" | "crnn") {
            let (png, js) = (out.join("cam.png"), out.join("cam.json"));
            run_ok(&["explain", s(&clip), "--model", s(&out), "--out", s(&png), "--json", s(&js)]);
            let cam = read_json(&js);
            assert!(cam["cam"]["rows"].as_u64().unwrap() > 1, "{model}: a frequency axis");
            let secs = cam["cam"]["seconds"].as_array().unwrap();
            assert_eq!(secs.len(), 3, "{model}: one value per second of the 3 s clip");
            assert!(secs.iter().all(|v| v.as_f64().is_some_and(|x| (0.0..=1.0).contains(&x))));
            assert!(std::fs::metadata(&png).unwrap().len() > 1000);
            let maps = out.join("first.png");
            run_ok(&["explain", s(&clip), "--model", s(&out), "--layer", "first", "--out", s(&maps)]);
            assert!(std::fs::metadata(&maps).unwrap().len() > 1000);
        }
    }
}

#[test]
fn a_killed_run_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("music");
    write_genre_folder(&data, 3, 4, 2.0, 22050, 5).unwrap();
    let cache = dir.path().join("cache");
    let args = ["--epochs", "6", "--window", "1", "--patience", "0", "--valid-frac", "0.25", "--test-frac", "0.25"];
    let whole = dir.path().join("whole");
    train(&data, "cnn", &whole, &cache, &args);

    let resumed = dir.path().join("resumed");
    let mut cmd = genre();
    cmd.args(["train", s(&data), "--model", "cnn", "--out", s(&resumed), "--cache", s(&cache), "--quiet"]).args(args);
    let mut child = cmd.spawn().unwrap();
    let state = resumed.join("checkpoint/state.json");
    let start = Instant::now();
    loop {
        let done = std::fs::read_to_string(&state)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["epochs_done"].as_u64())
            .unwrap_or(0);
        if done >= 2 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "training never reached epoch 2");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!resumed.join("model.json").exists(), "the run was meant to be interrupted");
    let out = run_ok(
        &["train", s(&data), "--model", "cnn", "--out", s(&resumed), "--cache", s(&cache)]
            .iter()
            .copied()
            .chain(args)
            .collect::<Vec<_>>(),
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("resumed after epoch"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metrics = |d: &Path| std::fs::read_to_string(d.join("metrics.csv")).unwrap();
    // Same numbers in every epoch except wall time.
    let strip = |t: String| {
        t.lines().map(|l| l.rsplit_once(',').map(|(a, _)| a.to_string()).unwrap_or_default()).collect::<Vec<_>>()
    };
    assert_eq!(strip(metrics(&whole)), strip(metrics(&resumed)));
    assert_eq!(
        tensors(&whole.join("model.safetensors")),
        tensors(&resumed.join("model.safetensors")),
        "final weights differ"
    );
}

/// Every tensor of a safetensors file, by name (the file's metadata order is not stable).
fn tensors(p: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(p).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors().into_iter().map(|(name, view)| (name, view.data().to_vec())).collect()
}

#[test]
fn multi_label_tagging_from_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    multi_label_manifest(root, 2.0, 4);
    let out = root.join("tags");
    train(
        &root.join("manifest.csv"),
        "cnn",
        &out,
        &root.join("cache"),
        &["--epochs", "8", "--window", "1", "--valid-frac", "0.3", "--test-frac", "0.3"],
    );
    let report = read_json(&out.join("eval_valid.json"));
    // A tagging run reports tag scores everywhere, never a single-label accuracy or confusion.
    let tags = &report["tags"];
    let aucs: Vec<f64> = tags["per_tag"].as_array().unwrap().iter().filter_map(|t| t["roc_auc"].as_f64()).collect();
    println!("per-tag ROC-AUC (valid): {aucs:?}; micro-F1 {}", tags["micro_f1"]);
    assert!(report.get("tracks").is_none() && report.get("segments").is_none(), "{report}");
    assert!(tags["micro_f1"].as_f64().is_some() && tags["exact_match"].as_f64().is_some());
    let md = std::fs::read_to_string(out.join("eval_valid.md")).unwrap();
    assert!(md.contains("micro-F1") && md.contains("| threshold |") && !md.contains("Confusion"), "{md}");
    assert!(!out.join("confusion_valid.png").exists());
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(metrics.lines().skip(1).all(|l| l.contains(",micro-F1,")), "{metrics}");
    let card = read_json(&out.join("model.json"));
    assert_eq!(card["multi_label"], true);
    assert_eq!(card["scores"]["valid"]["tags"]["micro_f1"], tags["micro_f1"]);
    let floats =
        |v: &serde_json::Value| -> Vec<f64> { v.as_array().unwrap().iter().map(|t| t.as_f64().unwrap()).collect() };
    let thresholds: Vec<serde_json::Value> =
        tags["per_tag"].as_array().unwrap().iter().map(|t| t["threshold"].clone()).collect();
    let (report_th, card_th) = (floats(&serde_json::Value::from(thresholds)), floats(&card["thresholds"]));
    assert_eq!(report_th.len(), card_th.len());
    assert!(
        report_th.iter().zip(&card_th).all(|(a, b)| (a - b).abs() < 1e-6),
        "the card decides with the thresholds its report scored: {report_th:?} vs {card_th:?}"
    );
    assert!(!aucs.is_empty());
    let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
    assert!(mean >= 0.8, "mean ROC-AUC {mean}");
}

#[test]
fn spectrogram_inputs_at_a_chosen_resolution_train() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("music");
    write_genre_folder(&data, 3, 4, 2.0, 22050, 8).unwrap();
    let cache = dir.path().join("cache");
    for (kind, rows) in [("stft", 129), ("logpower", 129)] {
        let out = dir.path().join(kind);
        let extra = ["--features", kind, "--n-fft", "256", "--hop", "128", "--window", "1", "--epochs", "2"];
        let mut args = vec!["--valid-frac", "0.25", "--test-frac", "0.25"];
        args.extend_from_slice(&extra);
        train(&data, "cnn", &out, &cache, &args);
        let card = read_json(&out.join("model.json"));
        assert_eq!(card["features"]["kind"], kind);
        assert_eq!(card["arch"]["rows"], rows, "1 + n_fft / 2 frequency bins");
        let clip = data.join("drone/drone.000.wav");
        run_ok(&["predict", s(&clip), "--model", s(&out)]);
    }
}
