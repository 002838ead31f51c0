//! Cutting signals into fixed-length windows (segments) for models.

use rand::Rng;

/// Window length and hop in seconds (e.g. 3 s windows with 50% overlap: `Windowing::new(3.0, 1.5)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Windowing {
    pub seconds: f64,
    pub hop_seconds: f64,
}

impl Windowing {
    pub fn new(seconds: f64, hop_seconds: f64) -> Self {
        Self { seconds, hop_seconds }
    }

    /// Windows with a fractional overlap in `[0, 1)`.
    pub fn with_overlap(seconds: f64, overlap: f64) -> Self {
        Self { seconds, hop_seconds: seconds * (1.0 - overlap.clamp(0.0, 0.99)) }
    }

    /// (length, hop) in samples at rate `sr`, both at least 1.
    pub fn samples(&self, sr: u32) -> (usize, usize) {
        let len = ((self.seconds * sr as f64).round() as usize).max(1);
        let hop = ((self.hop_seconds * sr as f64).round() as usize).max(1);
        (len, hop)
    }
}

/// Start sample of every full window that fits. A signal shorter than one window yields one
/// window at 0 (callers pad it; see [`window_padded`]), so short clips are never silently dropped.
pub fn window_starts(n_samples: usize, len: usize, hop: usize) -> Vec<usize> {
    (0..window_count(n_samples, len, hop)).map(|i| i * hop).collect()
}

/// How many windows [`window_starts`] gives, without listing them: a length taken from a
/// header's claim must not size an allocation.
pub fn window_count(n_samples: usize, len: usize, hop: usize) -> usize {
    match n_samples {
        0 => 0,
        n if n <= len => 1,
        n => (n - len) / hop.max(1) + 1,
    }
}

/// The window `[start, start+len)`, zero-padded past the end of the signal.
pub fn window_padded(signal: &[f32], start: usize, len: usize) -> Vec<f32> {
    let mut w = vec![0.0; len];
    let end = (start + len).min(signal.len());
    if start < end {
        w[..end - start].copy_from_slice(&signal[start..end]);
    }
    w
}

/// All windows of a signal (owned, zero-padded).
pub fn windows(signal: &[f32], len: usize, hop: usize) -> Vec<Vec<f32>> {
    window_starts(signal.len(), len, hop).into_iter().map(|s| window_padded(signal, s, len)).collect()
}

/// A random crop of `len` samples (for training); zero-padded when the signal is shorter.
pub fn random_crop<R: Rng>(signal: &[f32], len: usize, rng: &mut R) -> Vec<f32> {
    let start = if signal.len() > len { rng.gen_range(0..=signal.len() - len) } else { 0 };
    window_padded(signal, start, len)
}
