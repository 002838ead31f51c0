//! Explanations of the default model (an ensemble explained through its musicnn member):
//! gradient x input on the log-mel window, checked against central differences, and on real
//! music whose genre cue sits only in seconds 10-15 (5 s of a metal clip inside classical music).

use std::path::PathBuf;

use burn::prelude::*;
use genre_audio::wav::write_wav_mono16;
use genre_model::gradcam::gradient;
use genre_pipeline::explain::{first_layer_maps, first_layer_order, musicnn_logits, tile_stats, Explanation};
use genre_pipeline::{featurize_file, Predictor};
use genre_testkit::gtzan_dir;

fn vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn gtzan(p: &str) -> Vec<f32> {
    genre_audio::load(&gtzan_dir().join("audio").join(p), genre_audio::LoadOptions::default()).unwrap().samples
}

/// A WAV in a fresh folder of the system's temporary directory (removed by the caller).
fn wav(name: &str, y: &[f32]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genre-explain-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.wav"));
    write_wav_mono16(&path, y, 22050).unwrap();
    path
}

/// 25 s of classical.00000 with seconds 10-15 replaced by seconds 5-10 of metal.00000, in a
/// folder of the test's own (`test`: tests run in parallel, and each removes its folder).
fn cue_clip(test: &str) -> PathBuf {
    let sr = 22050;
    let (metal, mut y) = (gtzan("metal/metal.00000.flac"), gtzan("classical/classical.00000.flac"));
    y.truncate(25 * sr);
    y[10 * sr..15 * sr].copy_from_slice(&metal[5 * sr..10 * sr]);
    wav(test, &y)
}

fn explain(p: &Predictor, path: &std::path::Path, class: &str) -> Explanation {
    let k = p.card().classes.iter().position(|c| c == class).unwrap();
    p.explain_file(path, Some(k), Some(64)).unwrap()
}

/// Share of the evidence mass in seconds `range`, and the five strongest seconds.
fn mass(e: &Explanation, range: std::ops::Range<usize>) -> (f64, Vec<usize>) {
    let s = &e.per_second;
    let total: f64 = s.iter().map(|&v| v as f64).sum();
    let inside: f64 = s[range].iter().map(|&v| v as f64).sum();
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    order.truncate(5);
    order.sort();
    (inside / total.max(1e-12), order)
}

/// Mean evidence of each grid row over seconds `range` (row 0 = lowest frequency).
fn row_profile(e: &Explanation, range: std::ops::Range<usize>) -> Vec<f32> {
    let (c0, c1) = (range.start * 10, (range.end * 10).min(e.cols));
    (0..e.rows).map(|r| e.grid[r * e.cols + c0..r * e.cols + c1].iter().sum::<f32>() / (c1 - c0) as f32).collect()
}

#[test]
fn evidence_for_metal_lies_in_the_pasted_metal_seconds() {
    let p = Predictor::load(None).unwrap();
    let path = cue_clip("evidence");
    let e = explain(&p, &path, "metal");
    let (inside, top5) = mass(&e, 10..15);
    let rows = row_profile(&e, 10..15);
    let outside = e.per_second.iter().enumerate().filter(|(s, _)| !(10..15).contains(s)).map(|(_, &v)| v);
    let (floor, peak) = (outside.fold(f32::INFINITY, f32::min), e.per_second.iter().copied().fold(0f32, f32::max));
    println!("per second {:.3?}", e.per_second);
    println!(
        "mass in 10-15 s: {inside:.3}; strongest seconds {top5:?}; weakest second outside / strongest {:.3}",
        floor / peak
    );
    println!(
        "rows {} ({:?} Hz), mean per row over 10-15 s {rows:.3?}",
        e.rows,
        e.row_hz.iter().map(|h| h.round()).collect::<Vec<_>>()
    );
    println!("method: {}; note: {:?}", e.method, e.note);
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
    assert!(e.rows >= 8, "{} frequency rows", e.rows);
    assert_eq!(e.row_hz.len(), e.rows + 1);
    assert!(inside >= 0.5, "only {inside:.3} of the evidence in seconds 10-15");
    assert!(top5.iter().all(|s| (10..15).contains(s)), "strongest seconds {top5:?}");
    assert!(e.note.as_deref().is_some_and(|n| n.contains("no map: ")), "the unmapped member is named: {:?}", e.note);
}

/// The differentiable musicnn head (log-mel -> logits) against central differences of its own
/// forward pass, on cells of a real window where the gradient is largest and on a spread of others.
#[test]
fn input_gradient_matches_central_differences() {
    let p = Predictor::load(None).unwrap();
    let c = &p.members[0].0;
    let f = musicnn_logits(c).expect("the default's first member is a musicnn head");
    let mut spec = c.spec.clone();
    spec.embedding = None;
    let metal = gtzan_dir().join("audio/metal/metal.00000.flac");
    let w = featurize_file(&metal, &spec, None, Some(3)).unwrap();
    let d = genre_model::device::base();
    let dims = [1, 96, 187];
    let tensor = |v: &[f32]| Tensor::<3>::from_data(TensorData::new(v.to_vec(), dims), &d);
    let class = p.card().classes.iter().position(|c| c == "metal").unwrap();
    let (x, g) = gradient(tensor(&w.x[1]), &*f, class);
    let (xv, gv) = (vec(x), vec(g));
    let score = |v: &[f32]| vec(f(tensor(v)))[class] as f64;
    let mut cells: Vec<usize> = (0..gv.len()).collect();
    cells.sort_by(|&a, &b| gv[b].abs().total_cmp(&gv[a].abs()));
    cells.truncate(40);
    cells.extend((0..gv.len()).step_by(gv.len() / 12));
    let (eps, base) = (5e-3f32, score(&xv));
    // Differences of an f32 forward pass are only as good as its rounding: errors are judged
    // relative to the gradient's own scale (5% of its largest cell) where a cell's is smaller.
    let floor = 0.05 * gv[cells[0]].abs() as f64;
    let (mut worst, mut checked, mut kinks) = (0f64, 0, 0);
    for &k in &cells {
        let (mut up, mut down) = (xv.clone(), xv.clone());
        up[k] += eps;
        down[k] -= eps;
        let (su, sd) = (score(&up), score(&down));
        // Max pooling and ReLUs make the score piecewise smooth: where the one-sided differences
        // disagree (by 1%) a kink lies within eps and no difference is a valid reference (there,
        // autodiff was seen to match the one side without a kink).
        let (fwd, bwd) = ((su - base) / eps as f64, (base - sd) / eps as f64);
        if (fwd - bwd).abs() > 0.01 * fwd.abs().max(bwd.abs()).max(floor) {
            kinks += 1;
            continue;
        }
        let numeric = (su - sd) / (2.0 * eps as f64);
        let err = (numeric - gv[k] as f64).abs() / numeric.abs().max(gv[k].abs() as f64).max(floor);
        worst = worst.max(err);
        checked += 1;
    }
    println!(
        "input gradient: worst relative error {worst:.2e} over {checked} cells ({kinks} at a kink); largest |g| {:.3e}",
        gv[cells[0]].abs()
    );
    assert!(checked >= 20, "too few smooth cells ({checked})");
    assert!(worst < 1e-2, "autodiff and central differences disagree ({worst})");
}

/// `explain --layer first` draws each chosen map as a tile scaled to its own range: none of them
/// may be a black tile (a map silent but for a few cells), and there are enough to look at.
#[test]
fn first_layer_tiles_are_not_black() {
    let p = Predictor::load(None).unwrap();
    let path = cue_clip("first-layer");
    let (maps, shape, _) = first_layer_maps(&p.members[0].0, &path).unwrap();
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
    let order = first_layer_order(&maps, shape);
    let per = shape[1] * shape[2];
    // Share of each tile's cells brighter than a tenth of its range: what the eye sees as lit.
    let lit: Vec<f32> = order
        .iter()
        .map(|&k| {
            let m = &maps[k * per..(k + 1) * per];
            let (span, _, _) = tile_stats(m);
            let lo = m.iter().copied().fold(f32::INFINITY, f32::min);
            m.iter().filter(|&&v| v - lo > 0.1 * span).count() as f32 / per as f32
        })
        .collect();
    println!("{} of {} maps drawn; share of lit cells per tile {lit:.2?}", order.len(), shape[0]);
    assert!(order.len() >= 8, "only {} maps to draw", order.len());
    assert!(lit.iter().all(|&l| l >= 0.2), "a mostly dark tile: {lit:.2?}");
}
