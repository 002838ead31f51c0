//! Synthetic audio for tests and demos: tones, noise, drum-like bursts, silence, and whole
//! "synthetic genres" that differ in timbre and rhythm so that models have something to learn.
//! Everything is seeded and deterministic.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::augment::standard_normal;

fn n_samples(secs: f64, sr: u32) -> usize {
    (secs * sr as f64).round() as usize
}

/// A sine tone.
pub fn tone(freq: f64, secs: f64, sr: u32, amp: f32) -> Vec<f32> {
    let w = 2.0 * std::f64::consts::PI * freq / sr as f64;
    (0..n_samples(secs, sr)).map(|i| amp * (w * i as f64).sin() as f32).collect()
}

/// A harmonic tone: fundamental plus `n_harmonics` overtones with amplitude `rolloff^k`.
pub fn harmonic_tone(freq: f64, secs: f64, sr: u32, amp: f32, n_harmonics: usize, rolloff: f32) -> Vec<f32> {
    let mut out = vec![0.0; n_samples(secs, sr)];
    let mut a = amp;
    for k in 1..=n_harmonics + 1 {
        let f = freq * k as f64;
        if f >= sr as f64 / 2.0 {
            break;
        }
        mix_into(&mut out, &tone(f, secs, sr, a), 0);
        a *= rolloff;
    }
    out
}

/// White Gaussian noise.
pub fn noise(secs: f64, sr: u32, amp: f32, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n_samples(secs, sr)).map(|_| amp * standard_normal(&mut rng)).collect()
}

/// Digital silence.
pub fn silence(secs: f64, sr: u32) -> Vec<f32> {
    vec![0.0; n_samples(secs, sr)]
}

/// Drum-like bursts: kind of hit at each beat of a tempo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// Low pitched, decaying sine sweep (kick drum).
    Kick,
    /// Short burst of noise (snare / hi-hat).
    Snare,
}

/// One drum hit, `secs` long.
pub fn hit(kind: Hit, sr: u32, amp: f32, seed: u64) -> Vec<f32> {
    let secs = match kind {
        Hit::Kick => 0.25,
        Hit::Snare => 0.12,
    };
    let n = n_samples(secs, sr);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let t = i as f64 / sr as f64;
            let env = (-t / (secs / 5.0)).exp() as f32;
            let s = match kind {
                Hit::Kick => (2.0 * std::f64::consts::PI * (50.0 + 100.0 * (-t * 30.0).exp()) * t).sin() as f32,
                Hit::Snare => standard_normal(&mut rng) * 0.5,
            };
            amp * env * s
        })
        .collect()
}

/// A drum pattern: `pattern[i]` is played at beat `i % pattern.len()` (None = rest), at `bpm`.
pub fn drums(pattern: &[Option<Hit>], bpm: f64, secs: f64, sr: u32, amp: f32, seed: u64) -> Vec<f32> {
    let mut out = vec![0.0; n_samples(secs, sr)];
    let beat = 60.0 / bpm;
    let mut i = 0usize;
    while (i as f64) * beat < secs && !pattern.is_empty() {
        if let Some(kind) = pattern[i % pattern.len()] {
            let h = hit(kind, sr, amp, seed.wrapping_add(i as u64));
            mix_into(&mut out, &h, n_samples(i as f64 * beat, sr));
        }
        i += 1;
    }
    out
}

/// Add `src` into `dst` starting at sample `at` (clipped to `dst`'s length).
pub fn mix_into(dst: &mut [f32], src: &[f32], at: usize) {
    if at >= dst.len() {
        return;
    }
    for (d, s) in dst[at..].iter_mut().zip(src) {
        *d += s;
    }
}

/// Concatenate pieces.
pub fn concat(parts: &[Vec<f32>]) -> Vec<f32> {
    parts.concat()
}

/// Number of synthetic genres [`genre_clip`] can make.
pub const N_SYNTH_GENRES: usize = 6;

/// Names of the synthetic genres, index = class.
pub const SYNTH_GENRE_NAMES: [&str; N_SYNTH_GENRES] = ["drone", "pulse", "rock", "noise", "bells", "disco"];

/// A clip of synthetic genre `genre` (0..N_SYNTH_GENRES): classes differ in timbre (pitch range,
/// harmonic content, noise) and rhythm (tempo, pattern), with per-clip random variation from
/// `seed` so that no two clips are the same.
pub fn genre_clip(genre: usize, secs: f64, sr: u32, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (genre as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let jitter = |rng: &mut ChaCha8Rng, x: f64| x * rng.gen_range(0.9..1.1);
    let n = n_samples(secs, sr);
    let mut out = vec![0.0f32; n];
    let s = seed.wrapping_mul(31);
    match genre % N_SYNTH_GENRES {
        0 => {
            // drone: low sustained harmonic tones, no rhythm
            let f = jitter(&mut rng, 110.0);
            mix_into(&mut out, &harmonic_tone(f, secs, sr, 0.3, 6, 0.6), 0);
            mix_into(&mut out, &harmonic_tone(f * 1.5, secs, sr, 0.15, 4, 0.5), 0);
        }
        1 => {
            // pulse: slow kick only, mid-range sine
            let bpm = jitter(&mut rng, 70.0);
            mix_into(&mut out, &drums(&[Some(Hit::Kick)], bpm, secs, sr, 0.6, s), 0);
            mix_into(&mut out, &tone(jitter(&mut rng, 440.0), secs, sr, 0.05), 0);
        }
        2 => {
            // rock: kick/snare backbeat at ~120 bpm, bright distorted-ish chord
            let bpm = jitter(&mut rng, 120.0);
            let pat = [Some(Hit::Kick), Some(Hit::Snare), Some(Hit::Kick), Some(Hit::Snare)];
            mix_into(&mut out, &drums(&pat, bpm, secs, sr, 0.5, s), 0);
            let chord = harmonic_tone(jitter(&mut rng, 196.0), secs, sr, 0.2, 12, 0.85);
            mix_into(&mut out, &chord.iter().map(|x| (3.0 * x).tanh() * 0.2).collect::<Vec<_>>(), 0);
        }
        3 => {
            // noise: broadband noise with slow amplitude swell
            let base = noise(secs, sr, 0.2, s);
            let rate = jitter(&mut rng, 0.5);
            for (i, (o, b)) in out.iter_mut().zip(base).enumerate() {
                let t = i as f64 / sr as f64;
                *o += b * (0.6 + 0.4 * (2.0 * std::f64::consts::PI * rate * t).sin()) as f32;
            }
        }
        4 => {
            // bells: high decaying tones at random times
            let mut t = 0.0;
            while t < secs {
                let f = rng.gen_range(1200.0..3000.0);
                let note = harmonic_tone(f, 0.6, sr, 0.3, 2, 0.4);
                let decayed: Vec<f32> =
                    note.iter().enumerate().map(|(i, x)| x * (-(i as f32) / (0.15 * sr as f32)).exp()).collect();
                mix_into(&mut out, &decayed, n_samples(t, sr));
                t += rng.gen_range(0.2..0.5);
            }
        }
        _ => {
            // disco: fast four-on-the-floor with off-beat snares and a bass line
            let bpm = jitter(&mut rng, 125.0) * 2.0;
            let pat = [Some(Hit::Kick), Some(Hit::Snare)];
            mix_into(&mut out, &drums(&pat, bpm, secs, sr, 0.4, s), 0);
            let bass = harmonic_tone(jitter(&mut rng, 82.0), secs, sr, 0.25, 3, 0.5);
            mix_into(&mut out, &bass, 0);
        }
    }
    // A little noise everywhere so that no class is recognisable by exact digital silence.
    mix_into(&mut out, &noise(secs, sr, 0.002, s ^ 0xABCD), 0);
    out
}

/// A test signal with everything the front end must handle: tones, noise bursts, drum hits and
/// silent gaps of the given lengths between them.
pub fn test_signal_with_gaps(sr: u32, gaps_secs: &[f64], seed: u64) -> Vec<f32> {
    let mut parts = vec![harmonic_tone(220.0, 1.0, sr, 0.3, 4, 0.5)];
    for (i, &g) in gaps_secs.iter().enumerate() {
        parts.push(silence(g, sr));
        parts.push(if i % 2 == 0 {
            drums(&[Some(Hit::Kick), Some(Hit::Snare)], 240.0, 1.0, sr, 0.5, seed + i as u64)
        } else {
            noise(1.0, sr, 0.1, seed + i as u64)
        });
    }
    concat(&parts)
}

/// Write a synthetic data set in the genre-folder layout: `root/<genre>/<genre>.NNN.wav`, the
/// first `n_classes` synthetic genres, `per_class` clips of `secs` seconds each (16-bit, `sr`).
pub fn write_genre_folder(
    root: &std::path::Path,
    n_classes: usize,
    per_class: usize,
    secs: f64,
    sr: u32,
    seed: u64,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut paths = Vec::new();
    for (g, name) in SYNTH_GENRE_NAMES.iter().enumerate().take(n_classes.min(N_SYNTH_GENRES)) {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)?;
        for k in 0..per_class {
            let p = dir.join(format!("{name}.{k:03}.wav"));
            let clip = genre_clip(g, secs, sr, seed.wrapping_add(k as u64 * 1000));
            crate::wav::write_wav_mono16(&p, &clip, sr)?;
            paths.push(p);
        }
    }
    Ok(paths)
}
