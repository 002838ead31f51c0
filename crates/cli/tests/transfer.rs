//! The pre-trained musicnn network from the outside: tags of real music, embeddings, transfer
//! learning on synthetic genres (frozen and fine-tuned), and the default model on every length.

mod common;

use common::{multi_label_manifest, read_json, run_ok, s, shared};
use genre_audio::synth::{genre_clip, write_genre_folder};
use genre_audio::wav::write_wav_mono16;
use genre_report::npy::read_npy;

#[test]
fn tag_gives_the_reference_top_tags_of_real_music() {
    let jazz = shared().join("data/gtzan/audio/jazz/jazz.00000.flac");
    let metal = shared().join("data/gtzan/audio/metal/metal.00000.flac");
    let out = run_ok(&["tag", s(&jazz), s(&metal), "--json", "--segments"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    // TensorFlow's file-level top tags (shared/reference/musicnn): jazz: jazz; metal: metal.
    for (f, want) in files.iter().zip(["jazz", "metal"]) {
        assert_eq!(f["top"][0][0].as_str().unwrap(), want, "{f}");
        assert_eq!(f["segments"].as_array().unwrap().len(), 10, "ten 3 s windows in 30 s");
    }
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("taggram.png");
    run_ok(&["tag", s(&jazz), "--model", "mtt", "--out", s(&png)]);
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
}

#[test]
fn embed_writes_per_window_and_per_track_rows() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    write_wav_mono16(&a, &genre_clip(0, 7.0, 22050, 1), 22050).unwrap();
    write_wav_mono16(&b, &genre_clip(2, 2.0, 22050, 2), 22050).unwrap();
    let npy = dir.path().join("e.npy");
    run_ok(&["embed", s(&a), s(&b), "--out", s(&npy)]);
    let (shape, x) = read_npy(&npy).unwrap();
    // 7 s: two whole 2.992 s windows and one ending at 7 s (the timeline covers the file);
    // 2 s: one (repeated to fill the window, as musicnn does).
    assert_eq!(shape, vec![4, 200]);
    assert!(x.iter().all(|v| v.is_finite()));
    let rows = std::fs::read_to_string(dir.path().join("e.npy.rows.csv")).unwrap();
    assert_eq!(rows.lines().count(), 5, "{rows}");
    assert!(rows.lines().nth(3).unwrap().contains(",7.0"), "{rows}");
    let csv = dir.path().join("e.csv");
    run_ok(&["embed", s(&a), s(&b), "--per-track", "--layer", "pooled", "--out", s(&csv)]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert_eq!(text.lines().next().unwrap().split(',').count(), 3 + 1506);
}

#[test]
fn musicnn_heads_learn_synthetic_genres_and_finetune_moves_the_backbone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("music");
    write_genre_folder(&data, 4, 6, 6.0, 22050, 5).unwrap();
    let cache = dir.path().join("cache");
    let split = ["--valid-frac", "0.25", "--test-frac", "0.25", "--batch", "8"];
    let head = dir.path().join("head");
    let mut args = vec!["train", s(&data), "--model", "musicnn", "--out", s(&head), "--cache", s(&cache), "-q"];
    args.extend_from_slice(&split);
    args.extend_from_slice(&["--epochs", "40"]);
    run_ok(&args);
    let card = read_json(&head.join("model.json"));
    for part in ["valid", "test"] {
        let acc = card["scores"][part]["tracks"]["accuracy"].as_f64().unwrap();
        println!("musicnn head: {part} track accuracy {acc:.3}");
        // 4 classes (chance 0.25) of synthetic tones, unlike the music musicnn learned from.
        assert!(acc >= 0.6, "musicnn head {part}: {acc}");
    }
    // The frozen head holds no backbone weights: the pre-trained network is untouched.
    let names = tensor_names(&head.join("model.safetensors"));
    assert!(names.iter().all(|n| !n.contains("midend")), "{names:?}");

    let ft = dir.path().join("ft");
    let mut args =
        vec!["train", s(&data), "--model", "musicnn", "--finetune", "--out", s(&ft), "--cache", s(&cache), "-q"];
    args.extend_from_slice(&split);
    args.extend_from_slice(&["--epochs", "3", "--lr", "1e-3"]);
    run_ok(&args);
    let tuned = tensor(&ft.join("model.safetensors"), "Musicnn.backend.midend.0.conv.weight");
    let st = safetensors::SafeTensors::deserialize(genre_model::musicnn::Variant::Msd.weights()).unwrap();
    let pre = f32s(st.tensor("backend.midend.0.conv.weight").unwrap().data());
    assert_eq!(tuned.len(), pre.len());
    let moved = tuned.iter().zip(&pre).filter(|(a, b)| a != b).count();
    assert!(moved > pre.len() / 2, "fine-tuning changed only {moved} of {} mid-end weights", pre.len());
    // Batch-norm statistics stay the pre-trained ones (frozen).
    let bn = tensor(&ft.join("model.safetensors"), "Musicnn.backend.midend.0.bn.running_mean");
    assert_eq!(bn, f32s(st.tensor("backend.midend.0.bn.running_mean").unwrap().data()));
    // The fine-tuned model answers from audio.
    let clip = dir.path().join("x.wav");
    write_wav_mono16(&clip, &genre_clip(1, 4.0, 22050, 9), 22050).unwrap();
    run_ok(&["predict", s(&clip), "--model", s(&ft)]);
}

#[test]
fn default_model_answers_for_every_length() {
    let dir = tempfile::tempdir().unwrap();
    for (name, secs) in [("short.wav", 2.0), ("half.wav", 30.0), ("long.wav", 600.0)] {
        let p = dir.path().join(name);
        write_wav_mono16(&p, &genre_clip(3, secs, 22050, 4), 22050).unwrap();
        let out = run_ok(&["predict", s(&p), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let p0 = &v["predictions"][0];
        let segs = p0["segments"].as_array().unwrap();
        let total: f64 = p0["probabilities"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-3);
        let last_end = segs.last().unwrap()["end"].as_f64().unwrap();
        println!("{name}: {} windows, last ends at {last_end:.1} s", segs.len());
        assert!(segs.len() <= genre_pipeline::DEFAULT_MAX_WINDOWS, "windows are capped by default");
        // The timeline covers the whole file (windows spread over it, the last near its end).
        assert!(last_end >= secs - 6.0, "{name}: timeline ends at {last_end} of {secs} s");
    }
}

fn tensor_names(p: &std::path::Path) -> Vec<String> {
    let bytes = std::fs::read(p).unwrap();
    safetensors::SafeTensors::deserialize(&bytes).unwrap().names().into_iter().map(String::from).collect()
}

fn tensor(p: &std::path::Path, name: &str) -> Vec<f32> {
    let bytes = std::fs::read(p).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    f32s(st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}")).data())
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Real music with its genre cue only in seconds 10-15 (5 s of a metal clip inside classical
/// music): Grad-CAM of "metal" (default model) puts its evidence there. Measure: the evidence
/// above the file's median level (Grad-CAM of this network has a floor everywhere), at least 60%
/// of it in seconds 10-15, and the five strongest seconds all there.
#[test]
fn explain_finds_the_seconds_that_carry_the_genre() {
    let gtzan = shared().join("data/gtzan/audio");
    let load = |p: &str| genre_audio::load(&gtzan.join(p), genre_audio::LoadOptions::default()).unwrap().samples;
    let (metal, mut y) = (load("metal/metal.00000.flac"), load("classical/classical.00000.flac"));
    let sr = 22050;
    y.truncate(25 * sr);
    y[10 * sr..15 * sr].copy_from_slice(&metal[5 * sr..10 * sr]);
    let dir = tempfile::tempdir().unwrap();
    let (wav, js, png) = (dir.path().join("cue.wav"), dir.path().join("cam.json"), dir.path().join("cam.png"));
    write_wav_mono16(&wav, &y, sr as u32).unwrap();
    run_ok(&["explain", s(&wav), "--class", "metal", "--json", s(&js), "--out", s(&png)]);
    let cam = read_json(&js);
    let secs: Vec<f64> = cam["cam"]["seconds"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let mut sorted = secs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let excess: Vec<f64> = secs.iter().map(|v| (v - median).max(0.0)).collect();
    let inside = excess[10..15].iter().sum::<f64>() / excess.iter().sum::<f64>();
    let mut order: Vec<usize> = (0..secs.len()).collect();
    order.sort_by(|&a, &b| secs[b].total_cmp(&secs[a]));
    println!("evidence per second {secs:.2?}; above-median share in 10-15 s: {inside:.2}; top 5 s: {:?}", &order[..5]);
    assert!(inside >= 0.6, "only {inside:.2} of the evidence in seconds 10-15");
    assert!(order[..5].iter().all(|s| (10..15).contains(s)), "strongest seconds {:?}", &order[..5]);
    assert_eq!(
        cam["segments"].as_array().unwrap().len(),
        16,
        "every whole window of the 25 s file, one ending at 25 s"
    );
}

/// Multi-label tagging on the musicnn embedding: 3 tags, clips of one or two of them mixed.
#[test]
fn musicnn_heads_learn_tags_from_a_multi_label_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let manifest = multi_label_manifest(root, 6.0, 6);
    let out = root.join("run");
    run_ok(&[
        "train",
        s(&manifest),
        "--model",
        "musicnn",
        "--out",
        s(&out),
        "--cache",
        s(&root.join("cache")),
        "--epochs",
        "40",
        "--patience",
        "0",
        "--batch",
        "8",
        "--valid-frac",
        "0.3",
        "--test-frac",
        "0.3",
        "-q",
    ]);
    assert_eq!(read_json(&out.join("model.json"))["multi_label"], true);
    let report = read_json(&out.join("eval_valid.json"));
    let aucs: Vec<f64> =
        report["tags"]["per_tag"].as_array().unwrap().iter().filter_map(|t| t["roc_auc"].as_f64()).collect();
    let mean = aucs.iter().sum::<f64>() / aucs.len().max(1) as f64;
    println!("musicnn head, per-tag ROC-AUC (valid): {aucs:?}");
    assert!(!aucs.is_empty() && mean >= 0.75, "mean ROC-AUC {mean}");
}
