//! A few windows of a long file are read by seeking to them, and they are the windows a
//! whole-file decode gives.

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
fn spread_windows_are_read_by_seeking_and_equal_the_whole_decodes() {
    let dir = tempfile::tempdir().unwrap();
    // 100 s at 44.1 kHz stereo: every spec resamples it.
    let mono = genre_clip(2, 100.0, 44100, 3);
    let stereo: Vec<f32> = mono.iter().flat_map(|&v| [v, 0.5 * v]).collect();
    let path = dir.path().join("long.wav");
    write_wav(&path, &stereo, 44100, 2, WavFormat::Pcm16).unwrap();

    for spec in [FeatureSpec::new(FeatureKind::Gtzan57, 30.0, 15.0), FeatureSpec::musicnn(187.0 * 256.0 / 16000.0)] {
        let (all_summary, all) = windows(&path, &spec, None);
        // 1: the middle window; 4 of the 34 musicnn windows: 0, 11, 22 and the end window.
        assert!(!all_summary.sought);
        for max in [1, 4] {
            let (summary, some) = windows(&path, &spec, Some(max));
            // Seeking pays when the windows are at most half the file: not 4 x 30 s of 100 s.
            let sparse = !(spec.kind == FeatureKind::Gtzan57 && max == 4);
            assert_eq!(summary.sought, sparse, "{:?}, {max} windows", spec.kind);
            assert!(!some.is_empty() && some.len() <= max);
            if max == 1 {
                assert_eq!(some[0].0, (all_summary.windows - 1) / 2, "{:?}: the middle window", spec.kind);
            }
            for (k, start, x) in &some {
                let (_, full_start, full_x) = &all[*k];
                assert_eq!(start, full_start, "{:?}: window {k} starts where the whole decode's does", spec.kind);
                same_features(&spec, x, full_x);
            }
            // The summary still describes the whole file (from its header), not the part read.
            assert_eq!(summary.windows, all_summary.windows);
            assert!(
                summary.samples.abs_diff(all_summary.samples) <= 1,
                "{} vs {}",
                summary.samples,
                all_summary.samples
            );
            assert_eq!(summary.computed, some.len());
        }
    }
}

/// Equal up to rounding: a seek lands on the nearest sample at the file's rate, and the
/// resampler starts 0.1 s before the window instead of at the file's start.
fn same_features(spec: &FeatureSpec, x: &[f32], y: &[f32]) {
    if spec.kind == FeatureKind::Gtzan57 {
        let worst = worst_relative(x, y);
        assert!(worst < 1e-3, "GTZAN-57 features differ by up to {worst} (relative)");
    } else {
        // A log-mel: its quietest cells are near 0, so compare with its range.
        let (worst, mean) = abs_diff(x, y);
        let range = x.iter().fold(f32::MIN, |m, &v| m.max(v)) - x.iter().fold(f32::MAX, |m, &v| m.min(v));
        assert!(
            worst < 2e-3 * range && mean < 1e-4 * range,
            "log-mel: {worst} at worst, {mean} on average, range {range}"
        );
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
    assert!(!summary.sought, "the window past the real end sent it back to the whole decode");
}

#[test]
fn a_header_claiming_hours_of_a_two_second_file_neither_allocates_for_them_nor_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.wav");
    write_wav(&path, &genre_clip(0, 2.0, 22050, 9), 22050, 1, WavFormat::Pcm16).unwrap();
    // The data chunk's size (bytes 40..44) now claims 4 GB: about 27 hours of 16-bit audio.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[40..44].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let spec = FeatureSpec::musicnn(187.0 * 256.0 / 16000.0);
    for max in [None, Some(8), Some(1)] {
        let (summary, got) = windows(&path, &spec, max);
        assert!(!got.is_empty(), "{max:?}: a window of the audio there is");
        assert!(!summary.sought, "{max:?}: the sought windows lay past the real end");
        assert!(summary.samples <= 2 * 16000 + 1, "{max:?}: {} samples read", summary.samples);
    }
}
