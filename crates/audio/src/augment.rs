//! Waveform augmentation for training: additive noise and gain.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Default additive-noise level: small enough to be inaudible, large enough to break exact
/// silence (so log features of silent stretches are not all at the floor).
pub const DEFAULT_NOISE_LEVEL: f32 = 1e-5;

/// Add Gaussian noise with standard deviation `level` (absolute, full scale = 1.0), seeded.
pub fn add_noise(signal: &mut [f32], level: f32, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for x in signal.iter_mut() {
        *x += level * standard_normal(&mut rng);
    }
}

/// Add noise at a signal-to-noise ratio in dB (relative to the signal's RMS).
pub fn add_noise_snr(signal: &mut [f32], snr_db: f32, seed: u64) {
    let rms = (signal.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / signal.len().max(1) as f64).sqrt();
    let level = (rms / 10f64.powf(snr_db as f64 / 20.0)) as f32;
    add_noise(signal, level.max(DEFAULT_NOISE_LEVEL), seed);
}

/// Multiply by a gain given in dB.
pub fn apply_gain_db(signal: &mut [f32], gain_db: f32) {
    let g = 10f32.powf(gain_db / 20.0);
    signal.iter_mut().for_each(|x| *x *= g);
}

/// Box-Muller; avoids a dependency on rand_distr for one function.
pub fn standard_normal<R: Rng>(rng: &mut R) -> f32 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}
