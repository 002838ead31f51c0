//! Decoding and resampling: every WAV encoding, odd rates and channel counts, offsets, and the
//! shared reference files (FLAC/MP3/OGG against libsndfile).

use std::path::{Path, PathBuf};

use genre_audio::synth::{harmonic_tone, tone};
use genre_audio::wav::{write_wav, WavFormat};
use genre_audio::{load, AudioStream, LoadOptions};
use genre_testkit::{read_f32, reference_dir};

/// Signal-to-noise ratio of `x` against `reference`, in dB.
fn snr_db(x: &[f32], reference: &[f32]) -> f64 {
    let n = x.len().min(reference.len());
    let sig: f64 = reference[..n].iter().map(|&v| (v as f64).powi(2)).sum();
    let err: f64 = x[..n].iter().zip(&reference[..n]).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
    10.0 * (sig / err.max(1e-30)).log10()
}

#[test]
fn wav_and_flac_decode_bit_exactly() {
    let dir = reference_dir();
    let y = read_f32(&dir.join("y.f32"));
    for name in ["clip30_22050_mono.wav", "clip30_22050_mono.flac"] {
        let a = load(&dir.join(name), LoadOptions::default()).unwrap();
        assert_eq!(a.sr, 22050);
        assert_eq!(a.samples, y, "{name} must equal int16/32768 exactly");
    }
}

#[test]
fn mp3_and_ogg_match_libsndfile() {
    let dir = reference_dir();
    for (name, reference, min_snr) in [
        ("clip30_22050_mono.mp3", "decoded_mp3_libsndfile.f32", 60.0),
        ("clip30_22050_mono.ogg", "decoded_ogg_libsndfile.f32", 60.0),
    ] {
        let a = load(&dir.join(name), LoadOptions::default()).unwrap();
        let r = read_f32(&dir.join(reference));
        let snr = snr_db(&a.samples, &r);
        println!("{name}: {} samples (libsndfile {}), SNR vs libsndfile {snr:.1} dB", a.samples.len(), r.len());
        assert_eq!(a.samples.len(), r.len(), "{name}: sample count");
        assert!(snr >= min_snr, "{name}: SNR {snr:.1} dB < {min_snr} dB");
    }
}

fn temp_wav(dir: &Path, name: &str, interleaved: &[f32], sr: u32, channels: u16, fmt: WavFormat) -> PathBuf {
    let p = dir.join(name);
    write_wav(&p, interleaved, sr, channels, fmt).unwrap();
    p
}

#[test]
fn every_wav_encoding_decodes_to_the_same_signal() {
    let dir = tempfile::tempdir().unwrap();
    let x = harmonic_tone(220.0, 0.5, 22050, 0.5, 3, 0.5);
    for (fmt, tol) in [
        (WavFormat::Pcm8, 1.0 / 64.0),
        (WavFormat::Pcm16, 1.0 / 16384.0),
        (WavFormat::Pcm24, 1e-6),
        (WavFormat::Pcm32, 1e-6),
        (WavFormat::Float32, 0.0),
    ] {
        let p = temp_wav(dir.path(), &format!("{fmt:?}.wav"), &x, 22050, 1, fmt);
        let a = load(&p, LoadOptions::default()).unwrap();
        assert_eq!(a.samples.len(), x.len(), "{fmt:?}");
        let err = a.samples.iter().zip(&x).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(err <= tol, "{fmt:?}: max error {err}");
    }
}

#[test]
fn any_rate_and_channel_count_becomes_22050_mono() {
    let dir = tempfile::tempdir().unwrap();
    for (sr, channels) in [(8000u32, 1u16), (44100, 2), (48000, 2), (96000, 1), (44100, 6)] {
        let secs = 2.0;
        let mono = tone(440.0, secs, sr, 0.5);
        // Same tone on every channel, except channel 1 silent when there are several: the mono mix
        // must then be the channel mean, i.e. (n-1)/n of the tone.
        let mut inter = Vec::with_capacity(mono.len() * channels as usize);
        for &v in &mono {
            for c in 0..channels {
                inter.push(if channels > 1 && c == 1 { 0.0 } else { v });
            }
        }
        let p = temp_wav(dir.path(), &format!("t{sr}_{channels}.wav"), &inter, sr, channels, WavFormat::Float32);
        let a = load(&p, LoadOptions::default()).unwrap();
        let expected_len = (mono.len() as f64 * 22050.0 / sr as f64).ceil() as usize;
        assert_eq!(a.sr, 22050);
        assert_eq!(a.samples.len(), expected_len, "{sr} Hz x{channels}: length");
        let gain = if channels > 1 { (channels as f32 - 1.0) / channels as f32 } else { 1.0 };
        let want: Vec<f32> = tone(440.0, secs, 22050, 0.5 * gain);
        // Away from the edges the resampled tone must be the ideal tone (aligned, same level).
        let mid = &a.samples[2000..a.samples.len() - 2000];
        let snr = snr_db(mid, &want[2000..want.len() - 2000]);
        assert!(snr > 50.0, "{sr} Hz x{channels}: SNR {snr:.1} dB vs ideal 22050 Hz tone");
    }
}

#[test]
fn resampling_44k_stereo_matches_soxr_in_the_pass_band() {
    let dir = reference_dir();
    let ours = load(&dir.join("song10_44100_stereo.wav"), LoadOptions::default()).unwrap();
    let soxr = read_f32(&dir.join("song10_resampled_22050_soxr_hq.f32"));
    assert_eq!(ours.samples.len(), soxr.len());
    let snr = snr_db(&ours.samples, &soxr);
    println!("44.1k stereo -> 22050 mono: SNR vs soxr HQ {snr:.1} dB (soxr VHQ vs HQ: 57 dB, torchaudio: 32 dB)");
    assert!(snr > 30.0, "SNR {snr:.1} dB");
}

#[test]
fn offset_and_duration_read_part_of_a_file() {
    let dir = reference_dir();
    let y = read_f32(&dir.join("y.f32"));
    for name in ["clip30_22050_mono.wav", "clip30_22050_mono.flac"] {
        let a = load(&dir.join(name), LoadOptions { sr: None, offset: 10.0, duration: Some(2.5) }).unwrap();
        let start = 10 * 22050;
        assert_eq!(a.samples.len(), (2.5 * 22050.0) as usize, "{name}");
        assert_eq!(a.samples, y[start..start + a.samples.len()], "{name}: offset must be sample-exact");
    }
    // Lossy formats seek approximately then trim: the part must still line up with the full decode.
    let full = load(&dir.join("clip30_22050_mono.mp3"), LoadOptions::default()).unwrap();
    let part =
        load(&dir.join("clip30_22050_mono.mp3"), LoadOptions { sr: None, offset: 10.0, duration: Some(2.0) }).unwrap();
    assert_eq!(part.samples.len(), 44100);
    let snr = snr_db(&part.samples, &full.samples[220500..220500 + 44100]);
    assert!(snr > 40.0, "mp3 offset read misaligned: SNR {snr:.1} dB");
}

#[test]
fn streaming_yields_the_same_samples_as_loading() {
    let dir = reference_dir();
    let path = dir.join("song10_44100_stereo.wav");
    let whole = load(&path, LoadOptions::default()).unwrap();
    let mut s = AudioStream::open(&path, LoadOptions::default()).unwrap();
    let mut joined = Vec::new();
    let mut chunks = 0;
    while let Some(c) = s.next_chunk().unwrap() {
        joined.extend(c);
        chunks += 1;
    }
    assert!(chunks > 10, "a 10 s file must arrive in many chunks, got {chunks}");
    assert_eq!(joined, whole.samples);
}

/// Best normalised cross-correlation of `x` against `reference` within `max_lag` samples (AAC
/// encoders prepend a priming delay the container may or may not trim).
fn best_correlation(x: &[f32], reference: &[f32], max_lag: usize) -> f64 {
    let mut best = f64::NEG_INFINITY;
    for lag in 0..=max_lag {
        let n = reference.len().min(x.len().saturating_sub(lag));
        let (a, b) = (&x[lag..lag + n], &reference[..n]);
        let dot: f64 = a.iter().zip(b).map(|(p, q)| *p as f64 * *q as f64).sum();
        let na: f64 = a.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|q| (*q as f64).powi(2)).sum::<f64>().sqrt();
        best = best.max(dot / (na * nb).max(1e-12));
    }
    best
}

/// M4A/AAC, mono and 44.1 kHz stereo (made by ffmpeg from the synthetic generator's "drone"
/// clip, seed 1: `genre synth d --classes 1 --per-class 1 --secs 3`, then
/// `ffmpeg -i drone.000.wav -c:a aac -b:a 48k synth_mono_22050.m4a` and
/// `... -ac 2 -ar 44100 -c:a aac -b:a 64k synth_stereo_44100.m4a`). The MP4 track leaves the
/// channel count to the first packet: it must be read from there, not refused as 0.
#[test]
fn m4a_aac_decodes_mono_and_stereo() {
    let source = genre_audio::synth::genre_clip(0, 3.0, 22050, 1);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for (name, channels) in [("synth_mono_22050.m4a", 1), ("synth_stereo_44100.m4a", 2)] {
        let path = data.join(name);
        let stream = AudioStream::open(&path, LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stream.source_info().channels, channels, "{name}");
        let y = load(&path, LoadOptions::default()).unwrap().samples;
        assert!((y.len() as i64 - source.len() as i64).abs() < 4096, "{name}: {} samples vs {}", y.len(), source.len());
        let r = best_correlation(&y, &source, 4096);
        assert!(r > 0.95, "{name}: correlation {r:.3} with the source");
    }
}
