//! Parity with librosa 0.11 on the reference outputs in ../shared/reference (see its manifest.json).
//! Each check states its tolerance; the measured error is printed (`cargo test -- --nocapture`).

use genre_features::core::{power_to_db, spectrogram, DbRef, StftParams};
use genre_features::feature::{melspectrogram, mfcc, MelSpecParams};
use genre_features::filters::{mel, MelParams};
use genre_features::Array2;
use genre_testkit::reference_dir;

fn read_f32(name: &str) -> Vec<f32> {
    genre_testkit::read_f32(&reference_dir().join(name))
}

fn read_array(name: &str, rows: usize) -> Array2 {
    let v = read_f32(name);
    let cols = v.len() / rows;
    Array2::from_vec(rows, cols, v)
}

/// (max |a-b| / max|b|, max relative error over cells with |b| > floor_frac * max|b|)
fn errors(a: &Array2, b: &Array2, floor_frac: f32) -> (f32, f32) {
    assert_eq!(a.shape(), b.shape());
    let max_b = b.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let mut max_abs = 0.0f32;
    let mut max_rel = 0.0f32;
    for (x, y) in a.data.iter().zip(&b.data) {
        let d = (x - y).abs();
        max_abs = max_abs.max(d);
        if y.abs() > floor_frac * max_b {
            max_rel = max_rel.max(d / y.abs());
        }
    }
    (max_abs / max_b, max_rel)
}

fn y() -> Vec<f32> {
    read_f32("y.f32")
}

#[test]
fn mel_filter_banks_match_librosa() {
    for (htk, file) in [(false, "mel_fb_slaney.f32"), (true, "mel_fb_htk.f32")] {
        let ours = mel(&MelParams { htk, ..MelParams::default() });
        let theirs = read_array(file, 128);
        let (rel_to_max, rel) = errors(&ours, &theirs, 1e-3);
        println!("{file}: max err / max = {rel_to_max:.2e}, max rel err (cells > 1e-3 max) = {rel:.2e}");
        assert!(rel_to_max <= 1e-6, "{file}: {rel_to_max}");
        assert!(rel <= 1e-4, "{file}: {rel}");
        // Same sparsity pattern: a filter that leaks into an extra bin is a real bug.
        let nz = |a: &Array2| a.data.iter().map(|v| (*v != 0.0) as usize).sum::<usize>();
        assert_eq!(nz(&ours), nz(&theirs), "{file}: non-zero count");
    }
}

#[test]
fn stft_power_matches_librosa() {
    let ours = spectrogram(&y(), StftParams::default(), 2.0).unwrap();
    let theirs = read_array("stft_power.f32", 1025);
    let (rel_to_max, rel) = errors(&ours, &theirs, 1e-6);
    println!("stft_power: max err / max = {rel_to_max:.2e}, max rel err (cells > 1e-6 max) = {rel:.2e}");
    assert!(rel_to_max <= 1e-5);
    assert!(rel <= 1e-3);
}

#[test]
fn mel_power_matches_librosa() {
    for (htk, file) in [(false, "mel_power_slaney.f32"), (true, "mel_power_htk.f32")] {
        let p = MelSpecParams { mel: MelParams { htk, ..MelParams::default() }, ..Default::default() };
        let ours = melspectrogram(&y(), &p).unwrap();
        let theirs = read_array(file, 128);
        let (rel_to_max, rel) = errors(&ours, &theirs, 1e-6);
        println!("{file}: max err / max = {rel_to_max:.2e}, max rel err (cells > 1e-6 max) = {rel:.2e}");
        assert!(rel_to_max <= 1e-5);
        assert!(rel <= 1e-3);
    }
}

/// Max |dB difference| over cells where librosa's value is above its top_db floor.
fn db_error(ours: &Array2, theirs: &Array2) -> f32 {
    let floor = theirs.data.iter().copied().fold(f32::INFINITY, f32::min);
    ours.data
        .iter()
        .zip(&theirs.data)
        .filter(|(_, t)| **t > floor + 1e-3)
        .map(|(o, t)| (o - t).abs())
        .fold(0.0, f32::max)
}

#[test]
fn logmel_matches_librosa() {
    let cases = [
        (false, DbRef::Value(1.0), "logmel_db_ref1_slaney.f32"),
        (false, DbRef::Max, "logmel_db_refmax_slaney.f32"),
        (true, DbRef::Value(1.0), "logmel_db_ref1_htk.f32"),
    ];
    for (htk, reference, file) in cases {
        let p = MelSpecParams { mel: MelParams { htk, ..MelParams::default() }, ..Default::default() };
        let ours = power_to_db(&melspectrogram(&y(), &p).unwrap(), reference, 1e-10, Some(80.0));
        let theirs = read_array(file, 128);
        let err = db_error(&ours, &theirs);
        // Cells at the floor must sit at the same floor.
        let floor_gap = (ours.data.iter().copied().fold(f32::INFINITY, f32::min)
            - theirs.data.iter().copied().fold(f32::INFINITY, f32::min))
        .abs();
        println!("{file}: max |dB error| above floor = {err:.2e}, floor difference = {floor_gap:.2e} dB");
        assert!(err <= 0.01, "{file}: {err} dB");
        assert!(floor_gap <= 0.01, "{file}: floor {floor_gap} dB");
    }
}

#[test]
fn mfcc_matches_librosa() {
    for (htk, n, file) in
        [(false, 20, "mfcc20_slaney.f32"), (false, 40, "mfcc40_slaney.f32"), (true, 20, "mfcc20_htk.f32")]
    {
        let p = MelSpecParams { mel: MelParams { htk, ..MelParams::default() }, ..Default::default() };
        let ours = mfcc(&y(), &p, n).unwrap();
        let theirs = read_array(file, n);
        let max_abs = ours.data.iter().zip(&theirs.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        println!(
            "{file}: max abs error = {max_abs:.2e} (values span {:.0}..{:.0})",
            theirs.data.iter().copied().fold(f32::INFINITY, f32::min),
            theirs.max()
        );
        assert!(max_abs <= 0.01, "{file}: {max_abs}");
    }
}

/// Resampling is compared where it matters to features: log-mel below ~8.9 kHz (bands 0-99),
/// interior frames. The manifest's measurements for other resamplers vs soxr HQ on this file:
/// soxr VHQ 0.00075 dB, torchaudio 0.089 dB, scipy polyphase 0.31 dB.
#[test]
fn resampled_audio_matches_soxr_in_log_mel_below_9khz() {
    let ours = genre_audio::load(&reference_dir().join("song10_44100_stereo.wav"), genre_audio::LoadOptions::default())
        .unwrap();
    let soxr = read_f32("song10_resampled_22050_soxr_hq.f32");
    let p = MelSpecParams::default();
    let a = power_to_db(&melspectrogram(&ours.samples, &p).unwrap(), DbRef::Value(1.0), 1e-10, Some(80.0));
    let b = power_to_db(&melspectrogram(&soxr, &p).unwrap(), DbRef::Value(1.0), 1e-10, Some(80.0));
    let mut max_db = 0.0f32;
    for band in 0..100 {
        for t in 2..a.cols - 3 {
            max_db = max_db.max((a.get(band, t) - b.get(band, t)).abs());
        }
    }
    println!("resample 44.1k->22.05k: max |log-mel dB diff| vs soxr HQ, bands 0-99 = {max_db:.4}");
    assert!(max_db <= 0.01, "{max_db} dB");
}
