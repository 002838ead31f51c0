//! One window of a long file is read by seeking to it, and it is the window a whole-file decode
//! gives.

use std::path::Path;

use genre_audio::synth::genre_clip;
use genre_audio::wav::{write_wav, WavFormat};
use genre_data::windows::{stream_windows, StreamSummary};
use genre_data::{FeatureKind, FeatureSpec};

/// The windows `stream_windows` computes: (index, start, features).
fn windows(path: &Path, spec: &FeatureSpec, max: Option<usize>) -> (StreamSummary, Vec<(usize, usize, Vec<f32>)>) {
    let per = spec.shape()[0] * spec.shape()[1];
    let mut out = Vec::new();
    let summary = stream_windows(path, spec, 4, max, true, &mut |b| {
        for ((k, s), x) in b.windows.iter().zip(b.x.chunks(per)) {
            out.push((*k, *s, x.to_vec()));
        }
        Ok(())
    })
    .unwrap();
    (summary, out)
}

fn worst_relative(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(1e-3)).fold(0.0, f32::max)
}

/// Largest and mean absolute difference.
fn abs_diff(a: &[f32], b: &[f32]) -> (f32, f32) {
    let d: Vec<f32> = a.iter().zip(b).map(|(x, y)| (x - y).abs()).collect();
    (d.iter().fold(0.0, |m, &v| m.max(v)), d.iter().sum::<f32>() / d.len().max(1) as f32)
}

#[test]
fn the_middle_window_alone_is_read_by_seeking_and_equals_the_whole_decodes() {
    let dir = tempfile::tempdir().unwrap();
    // 100 s at 44.1 kHz stereo: every spec resamples it.
    let mono = genre_clip(2, 100.0, 44100, 3);
    let stereo: Vec<f32> = mono.iter().flat_map(|&v| [v, 0.5 * v]).collect();
    let path = dir.path().join("long.wav");
    write_wav(&path, &stereo, 44100, 2, WavFormat::Pcm16).unwrap();

    for spec in [FeatureSpec::new(FeatureKind::Gtzan57, 30.0, 15.0), FeatureSpec::musicnn(187.0 * 256.0 / 16000.0)] {
        let (all_summary, all) = windows(&path, &spec, None);
        let (one_summary, one) = windows(&path, &spec, Some(1));
        assert_eq!(one.len(), 1);
        let middle = (all_summary.windows - 1) / 2;
        let (k, start, x) = &one[0];
        assert_eq!((*k, *start), (all[middle].0, all[middle].1), "{:?}: the middle window", spec.kind);
        // Up to rounding: the seek lands on the nearest sample at the file's rate, and the
        // resampler starts 0.1 s before the window instead of at the file's start.
        match spec.kind {
            FeatureKind::Gtzan57 => {
                let worst = worst_relative(x, &all[middle].2);
                assert!(worst < 1e-3, "GTZAN-57 features differ by up to {worst} (relative)");
            }
            _ => {
                // A log-mel: its quietest cells are near 0, so compare with its range.
                let (worst, mean) = abs_diff(x, &all[middle].2);
                let range = x.iter().fold(f32::MIN, |m, &v| m.max(v)) - x.iter().fold(f32::MAX, |m, &v| m.min(v));
                assert!(
                    worst < 2e-3 * range && mean < 1e-4 * range,
                    "log-mel: {worst} at worst, {mean} on average, range {range}"
                );
            }
        }
        // The summary still describes the whole file (from its header), not the part read.
        assert_eq!(one_summary.windows, all_summary.windows);
        assert!(
            one_summary.samples.abs_diff(all_summary.samples) <= 1,
            "{} vs {}",
            one_summary.samples,
            all_summary.samples
        );
        assert_eq!(one_summary.computed, 1);
    }
}

#[test]
fn a_header_that_promises_more_than_the_file_holds_falls_back_to_the_whole_decode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.wav");
    write_wav(&path, &genre_clip(1, 100.0, 22050, 5), 22050, 1, WavFormat::Pcm16).unwrap();
    // Keep the header (which still says 100 s) and the first 40 s of samples.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..44 + 40 * 22050 * 2]).unwrap();
    let spec = FeatureSpec::new(FeatureKind::Gtzan57, 30.0, 15.0);
    let (summary, one) = windows(&path, &spec, Some(1));
    assert_eq!(one.len(), 1, "one window all the same");
    let (_, start, x) = &one[0];
    assert!(start + 30 * 22050 <= 40 * 22050, "the window {start} lies inside the 40 s the file holds");
    assert!(x.iter().all(|v| v.is_finite()));
    assert!(summary.samples <= 40 * 22050 + 1, "the length read, not the header's: {}", summary.samples);
}
