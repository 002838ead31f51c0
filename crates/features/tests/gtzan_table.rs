//! The GTZAN 57-feature vector against the published table (librosa, features_30_sec.csv) on the
//! 101 real clips of ../shared/data/gtzan/audio. Targets (issue 2): every column except
//! harmony_mean, perceptr_mean (compared absolutely, 1e-3) and tempo within 1% median relative
//! error; tempo equal to librosa 0.11's on >= 90% of clips (librosa's values were computed with
//! ../shared/bench/features/gtzan57_librosa.py and are stored in tests/data).

use std::collections::HashMap;
use std::path::PathBuf;

use genre_audio::{load, LoadOptions};
use genre_features::gtzan::{gtzan57, gtzan57_names};
use genre_testkit::gtzan_dir;
use rayon::prelude::*;

/// filename stem (e.g. "blues.00000") -> column name -> value
fn read_table(path: &std::path::Path) -> HashMap<String, HashMap<String, f64>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let stem = cells[0].trim_end_matches(".wav").trim_end_matches(".flac").to_string();
            let row = header
                .iter()
                .zip(&cells)
                .filter_map(|(h, c)| c.parse::<f64>().ok().map(|v| (h.to_string(), v)))
                .collect();
            (stem, row)
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[test]
fn gtzan57_matches_the_feature_table_on_real_music() {
    let dir = gtzan_dir();
    let table = read_table(&dir.join("features_30_sec.csv"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("audio"))
        .unwrap()
        .flat_map(|g| std::fs::read_dir(g.unwrap().path()).unwrap().map(|f| f.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 101, "expected the 101 GTZAN clips");
    let ours: Vec<(String, Vec<f64>)> = files
        .par_iter()
        .map(|p| {
            let audio = load(p, LoadOptions::default()).unwrap();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), gtzan57(&audio.samples, audio.sr).unwrap())
        })
        .collect();
    let names = gtzan57_names();
    let mut failures = Vec::new();
    println!("{:<26} {:>12} {:>12}", "column", "median err", "worst err");
    for (j, name) in names.iter().enumerate() {
        let errs: Vec<f64> = ours
            .iter()
            .map(|(stem, v)| {
                let t = table[stem][name];
                if name == "harmony_mean" || name == "perceptr_mean" {
                    (v[j] - t).abs()
                } else {
                    (v[j] - t).abs() / t.abs().max(1e-12)
                }
            })
            .collect();
        let (med, worst) = (median(errs.clone()), errs.iter().copied().fold(0.0, f64::max));
        let kind = if name.ends_with("harmony_mean") || name == "perceptr_mean" { "abs" } else { "rel" };
        println!("{name:<26} {med:>12.3e} {worst:>12.3e} ({kind})");
        let ok = match name.as_str() {
            "tempo" => true, // checked against librosa 0.11 below
            "harmony_mean" | "perceptr_mean" => worst <= 1e-3,
            _ => med <= 0.01,
        };
        if !ok {
            failures.push(name.clone());
        }
    }
    let librosa = read_table(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/gtzan57_librosa011.csv"));
    let tempo_j = names.iter().position(|n| n == "tempo").unwrap();
    let same = |reference: &HashMap<String, HashMap<String, f64>>| {
        ours.iter().filter(|(stem, v)| (v[tempo_j] - reference[stem]["tempo"]).abs() < 1e-3).count()
    };
    let (vs_librosa, vs_table) = (same(&librosa), same(&table));
    println!("tempo equal to librosa 0.11 on {vs_librosa}/101 clips, to the table on {vs_table}/101");
    assert!(failures.is_empty(), "columns off target: {failures:?}");
    assert!(vs_librosa * 10 >= 101 * 9, "tempo matches librosa 0.11 on only {vs_librosa}/101 clips");
}
