//! Confidence that means what it says: temperature scaling (Guo et al. 2017) and the
//! reliability of a model's top probability (expected calibration error, ECE).
//!
//! The temperature acts on probabilities, not logits: `p_i^(1/T)` renormalised. For one window
//! that is exactly `softmax(logits / T)`; applied to a track's mean over windows or to an
//! ensemble's mixture it calibrates the answer the user sees, whatever produced it.

use serde::{Deserialize, Serialize};

/// Bins of the reliability diagram and of the ECE.
pub const BINS: usize = 10;

/// `p^(1/t)` renormalised, in place (t = 1 leaves `p` as it is; t > 1 softens, t < 1 sharpens).
pub fn apply_temperature(p: &mut [f32], t: f32) {
    if t == 1.0 || p.is_empty() {
        return;
    }
    // In log space, shifted by the largest value, so tiny probabilities neither underflow nor
    // turn into NaN.
    let logs: Vec<f64> = p.iter().map(|&v| (v.max(1e-30) as f64).ln() / t as f64).collect();
    let top = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = logs.iter().map(|l| (l - top).exp()).sum();
    for (v, l) in p.iter_mut().zip(&logs) {
        *v = ((l - top).exp() / sum) as f32;
    }
}

/// Mean negative log-likelihood of the true classes after temperature `t`.
fn nll(probs: &[Vec<f32>], labels: &[usize], t: f32) -> f64 {
    let total: f64 = probs
        .iter()
        .zip(labels)
        .map(|(p, &y)| {
            let mut q = p.clone();
            apply_temperature(&mut q, t);
            -(q[y].max(1e-12) as f64).ln()
        })
        .sum();
    total / probs.len().max(1) as f64
}

/// The temperature in [0.05, 20] that minimises the NLL of `labels` under `probs`: a scan of
/// log t in steps of 0.02, then golden-section refinement around the best step (the NLL is
/// unimodal in log t for a fixed set of answers; the scan guards against flat stretches).
pub fn fit_temperature(probs: &[Vec<f32>], labels: &[usize]) -> f32 {
    if probs.is_empty() {
        return 1.0;
    }
    let f = |log_t: f64| nll(probs, labels, log_t.exp() as f32);
    let (lo, hi, step) = (0.05f64.ln(), 20f64.ln(), 0.02);
    let n = ((hi - lo) / step) as usize;
    let best = (0..=n).map(|i| lo + i as f64 * step).min_by(|&a, &b| f(a).total_cmp(&f(b))).unwrap_or(0.0);
    let (mut a, mut b) = (best - step, best + step);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..30 {
        let (c, d) = (b - g * (b - a), a + g * (b - a));
        if f(c) < f(d) {
            b = d;
        } else {
            a = c;
        }
    }
    ((a + b) / 2.0).exp() as f32
}

/// One bin of top-probability confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub lo: f32,
    pub hi: f32,
    pub count: usize,
    /// Mean top probability and share of right answers of the items in the bin (0 when empty).
    pub confidence: f32,
    pub accuracy: f32,
}

/// How well the top probability matches how often it is right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    pub bins: Vec<Bin>,
    /// Expected calibration error: count-weighted mean |accuracy - confidence| over the bins.
    pub ece: f32,
    /// Mean top probability and accuracy over all items.
    pub mean_confidence: f32,
    pub accuracy: f32,
    pub count: usize,
}

/// The reliability of answers `probs` (one row per item) against `labels`, in [`BINS`] equal
/// bins of the top probability.
pub fn reliability(probs: &[Vec<f32>], labels: &[usize]) -> Reliability {
    let mut sums = vec![(0usize, 0f64, 0usize); BINS];
    let (mut conf_sum, mut right_sum) = (0f64, 0usize);
    for (p, &y) in probs.iter().zip(labels) {
        let top = crate::metrics::argmax(p);
        let conf = p[top].clamp(0.0, 1.0);
        let k = ((conf * BINS as f32) as usize).min(BINS - 1);
        let right = usize::from(top == y);
        sums[k].0 += 1;
        sums[k].1 += conf as f64;
        sums[k].2 += right;
        conf_sum += conf as f64;
        right_sum += right;
    }
    let n = probs.len().max(1) as f64;
    let bins: Vec<Bin> = sums
        .iter()
        .enumerate()
        .map(|(k, &(count, conf, right))| {
            let c = count.max(1) as f64;
            Bin {
                lo: k as f32 / BINS as f32,
                hi: (k + 1) as f32 / BINS as f32,
                count,
                confidence: (conf / c) as f32,
                accuracy: (right as f64 / c) as f32,
            }
        })
        .collect();
    let ece = bins.iter().map(|b| b.count as f64 / n * (b.accuracy - b.confidence).abs() as f64).sum::<f64>();
    Reliability {
        bins,
        ece: ece as f32,
        mean_confidence: (conf_sum / n) as f32,
        accuracy: (right_sum as f64 / n) as f32,
        count: probs.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_of_one_window_is_softmax_of_scaled_logits() {
        let logits = [2.0f32, 0.5, -1.0];
        let softmax = |t: f32| {
            let e: Vec<f32> = logits.iter().map(|l| (l / t).exp()).collect();
            let s: f32 = e.iter().sum();
            e.into_iter().map(|v| v / s).collect::<Vec<_>>()
        };
        let mut p = softmax(1.0);
        apply_temperature(&mut p, 2.5);
        for (a, b) in p.iter().zip(softmax(2.5)) {
            assert!((a - b).abs() < 1e-6, "{p:?}");
        }
    }

    #[test]
    fn overconfident_answers_get_a_temperature_above_one_and_a_lower_ece() {
        // Always 95% sure, right 60% of the time.
        let probs: Vec<Vec<f32>> = (0..100).map(|_| vec![0.95, 0.03, 0.02]).collect();
        let labels: Vec<usize> = (0..100).map(|i| if i % 5 < 3 { 0 } else { 1 + i % 2 }).collect();
        let before = reliability(&probs, &labels);
        assert!((before.ece - 0.35).abs() < 1e-4, "{before:?}");
        let t = fit_temperature(&probs, &labels);
        assert!(t > 1.5, "{t}");
        let after: Vec<Vec<f32>> = probs
            .iter()
            .map(|p| {
                let mut q = p.clone();
                apply_temperature(&mut q, t);
                q
            })
            .collect();
        let r = reliability(&after, &labels);
        assert!(r.ece < 0.05, "{r:?}");
        assert!((r.mean_confidence - 0.6).abs() < 0.05, "{r:?}");
    }

    #[test]
    fn underconfident_answers_get_a_temperature_below_one() {
        let probs: Vec<Vec<f32>> = (0..50).map(|_| vec![0.4, 0.3, 0.3]).collect();
        let labels = vec![0; 50];
        assert!(fit_temperature(&probs, &labels) < 0.5);
    }

    #[test]
    fn tiny_probabilities_stay_finite() {
        let mut p = vec![1.0, 0.0, 1e-38];
        apply_temperature(&mut p, 0.1);
        assert!(p.iter().all(|v| v.is_finite()) && (p.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{p:?}");
    }
}
