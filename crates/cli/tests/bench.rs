//! `genre bench models`: one JSON line per case, each measured in a process of its own, and the
//! PyTorch twin's line read back beside it (a stand-in plays the twin: CI has no torch).

mod common;

use common::{genre, s};

#[cfg(unix)]
#[test]
fn bench_models_prints_a_line_per_case_with_the_twins_ratio() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // What `python torch_twins.py --model M ...` prints: chatter, then its JSON line (it claims
    // the parameter count of the features MLP whatever the model).
    let fake = dir.path().join("python");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'loading torch'\necho '{\"ms\": 2.0, \"ms_min\": 1.5, \"n\": 5, \"rss_mb\": 500.0, \"params\": 50570}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = dir.path().join("twins.py");
    std::fs::write(&script, "").unwrap();
    let out = genre()
        .args(["bench", "models", "--models", "features,musicnn", "--cases", "infer_b1,train_b32"])
        .args(["--threads", "1", "--min-time", "0", "--json", "--torch", s(&fake), "--torch-script", s(&script)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let rows: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let cases: Vec<(String, String)> =
        rows.iter().map(|r| (r["model"].as_str().unwrap().into(), r["case"].as_str().unwrap().into())).collect();
    let want = [("features", "infer_b1"), ("features", "train_b32"), ("musicnn", "infer_b1"), ("musicnn", "train_b32")];
    assert_eq!(cases, want.map(|(m, c)| (m.to_string(), c.to_string())));
    for r in &rows {
        let ms = r["ms"].as_f64().unwrap();
        assert!(ms > 0.0 && r["ms_min"].as_f64().unwrap() <= ms, "{r}");
        assert!(r["rss_mb"].as_f64().unwrap() > 1.0, "{r}");
        assert_eq!(r["threads"], 1);
        assert_eq!(r["torch_ms"], 2.0);
        assert!((r["ratio"].as_f64().unwrap() - ms / 2.0).abs() < 1e-9, "{r}");
    }
    // burn's parameter counts (batch norm statistics included), and the twin's mismatch named.
    assert_eq!(rows[0]["params"], 50570);
    assert_eq!(rows[2]["params"], 2010);
    assert!(stderr.contains("musicnn: the PyTorch twin has 50570 parameters, genre's network 2010"), "{stderr}");
    assert!(!stderr.contains("features: the PyTorch twin"), "{stderr}");
}

#[test]
fn bench_models_refuses_an_unknown_model() {
    let out = genre().args(["bench", "models", "--models", "transformer"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown model 'transformer'"), "{stderr}");
}
