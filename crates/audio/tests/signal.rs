//! Windows, silence removal and augmentation on generated signals.

use genre_audio::augment::{add_noise, apply_gain_db};
use genre_audio::silence::{remove_silence, silent_spans, SilenceOptions};
use genre_audio::synth::{genre_clip, test_signal_with_gaps, N_SYNTH_GENRES};
use genre_audio::window::{random_crop, window_count, window_starts, windows, Windowing};
use rand::SeedableRng;

#[test]
fn windows_cover_the_signal_with_the_requested_hop() {
    for (secs, overlap) in [(1.3, 0.5), (3.0, 0.5), (5.0, 0.0), (15.0, 0.25)] {
        let w = Windowing::with_overlap(secs, overlap);
        let (len, hop) = w.samples(22050);
        let n = 30 * 22050;
        let starts = window_starts(n, len, hop);
        assert_eq!(window_count(n, len, hop), starts.len());
        assert!(starts.windows(2).all(|p| p[1] - p[0] == hop));
        let last = *starts.last().unwrap();
        assert!(last + len <= n && last + len + hop > n, "{secs} s: last window must be the last that fits");
    }
    // A clip shorter than one window still gives one (zero-padded) window.
    let short = vec![0.5f32; 1000];
    let ws = windows(&short, 22050, 11025);
    assert_eq!(ws.len(), 1);
    assert_eq!(ws[0].len(), 22050);
    assert_eq!(&ws[0][..1000], &short[..]);
    assert!(ws[0][1000..].iter().all(|&v| v == 0.0));
    assert!(windows(&[], 100, 50).is_empty());
    assert_eq!((window_count(0, 100, 50), window_count(7, 100, 50)), (0, 1));
    // Counted, not listed: a length claimed by a header costs no memory.
    assert_eq!(window_count(usize::MAX, 2, 1), usize::MAX - 1);
}

#[test]
fn random_crops_are_seeded_and_inside_the_signal() {
    let x: Vec<f32> = (0..10_000).map(|i| i as f32).collect();
    let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut b = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for _ in 0..20 {
        let (ca, cb) = (random_crop(&x, 1000, &mut a), random_crop(&x, 1000, &mut b));
        assert_eq!(ca, cb);
        assert!(ca.windows(2).all(|p| p[1] == p[0] + 1.0), "crop must be contiguous");
    }
}

#[test]
fn long_silences_are_removed_and_short_pauses_kept() {
    let sr = 22050;
    // gaps: 0.3 s (kept), 2 s (removed), 0.8 s (kept), 1.5 s (removed)
    let x = test_signal_with_gaps(sr, &[0.3, 2.0, 0.8, 1.5], 1);
    let opts = SilenceOptions::default();
    let spans = silent_spans(&x, sr, &opts);
    assert_eq!(spans.len(), 2, "spans: {spans:?}");
    let removed: usize = spans.iter().map(|(s, e)| e - s).sum();
    let removed_secs = removed as f64 / sr as f64;
    // 3.5 s of gaps, plus the decayed tail of the drum hits before the 1.5 s gap (a kick falls
    // below -60 dBFS within ~0.3 s), which is silence too.
    assert!((3.45..=3.8).contains(&removed_secs), "removed {removed_secs:.3} s, expected 3.5-3.8 s");
    let y = remove_silence(&x, sr, &opts);
    assert_eq!(y.len(), x.len() - removed);
    // A louder threshold removes more (the noise bursts are ~-20 dBFS, kept at -60).
    let strict = SilenceOptions { threshold_db: -10.0, ..opts };
    assert!(remove_silence(&x, sr, &strict).len() < y.len());
    // All-silent input: everything goes, nothing breaks.
    assert!(remove_silence(&vec![0.0; sr as usize * 3], sr, &opts).is_empty());
}

#[test]
fn noise_and_gain_augmentation() {
    let mut x = vec![0.0f32; 100_000];
    add_noise(&mut x, 1e-3, 42);
    let rms = (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    assert!((rms - 1e-3).abs() < 2e-5, "noise level {rms}");
    let mut y = vec![0.0f32; 100_000];
    add_noise(&mut y, 1e-3, 42);
    assert_eq!(x, y, "same seed, same noise");
    apply_gain_db(&mut y, 20.0);
    assert!((y[5] / x[5] - 10.0).abs() < 1e-4);
}

#[test]
fn synthetic_genres_are_deterministic_and_distinct() {
    for g in 0..N_SYNTH_GENRES {
        let a = genre_clip(g, 2.0, 22050, 3);
        assert_eq!(a, genre_clip(g, 2.0, 22050, 3));
        assert_ne!(a, genre_clip(g, 2.0, 22050, 4));
        assert!(a.iter().all(|v| v.is_finite() && v.abs() < 2.0));
    }
}
