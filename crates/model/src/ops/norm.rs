//! Batch normalisation in training (the batch's own statistics), forward and backward, on
//! `[batch, channels, spatial]` slices.
//!
//! Why by hand: burn's `batch_norm_train` is composed of tensor operations, and each statistic
//! swaps the batch and channel axes of the whole activation and copies it to make the channel
//! rows contiguous (a dozen passes and two full copies per layer, forward and backward). Here the
//! statistics are two reads of each channel in place and the output one write.

use rayon::prelude::*;

/// `x` is `[batch, channels, spatial]` row-major.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormShape {
    pub batch: usize,
    pub channels: usize,
    pub spatial: usize,
}

impl NormShape {
    fn count(&self) -> f64 {
        (self.batch * self.spatial).max(1) as f64
    }
    /// Channel `c`'s rows of `v`, one per batch item.
    fn rows<'a>(&self, v: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> + 'a {
        let (s, cs) = (self.spatial, self.channels * self.spatial);
        (0..self.batch).map(move |b| &v[b * cs + c * s..b * cs + (c + 1) * s])
    }
}

/// Per channel, the mean and the biased variance (what the running statistics take), summed in
/// f64 so that long channels keep their precision.
pub fn stats(s: &NormShape, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    assert_eq!(x.len(), s.batch * s.channels * s.spatial, "batch norm: input size");
    let per: Vec<(f32, f32)> = (0..s.channels)
        .into_par_iter()
        .map(|c| {
            let mean = s.rows(x, c).flatten().map(|&v| f64::from(v)).sum::<f64>() / s.count();
            let var = s.rows(x, c).flatten().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / s.count();
            (mean as f32, var as f32)
        })
        .collect();
    per.into_iter().unzip()
}

fn inv_std(var: &[f32], epsilon: f64) -> Vec<f32> {
    var.iter().map(|&v| (1.0 / (f64::from(v) + epsilon).sqrt()) as f32).collect()
}

/// `y = (x - mean) / sqrt(var + epsilon) * gamma + beta` per channel.
pub fn forward(
    s: &NormShape,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
) -> Vec<f32> {
    let inv = inv_std(var, epsilon);
    let mut y = vec![0.0; x.len()];
    if s.spatial == 0 {
        return y;
    }
    y.par_chunks_mut(s.spatial).zip(x.par_chunks(s.spatial)).enumerate().for_each(|(plane, (yr, xr))| {
        let c = plane % s.channels;
        let (scale, m, b) = (gamma[c] * inv[c], mean[c], beta[c]);
        yr.iter_mut().zip(xr).for_each(|(y, &x)| *y = (x - m) * scale + b);
    });
    y
}

/// The gradients of [`forward`] with the batch's own statistics: `(dx, dgamma, dbeta)`.
pub fn backward(
    s: &NormShape,
    x: &[f32],
    gamma: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    dy: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert!(dy.len() == x.len() && x.len() == s.batch * s.channels * s.spatial, "batch norm: gradient size");
    let inv = inv_std(var, epsilon);
    // Per channel: dbeta = sum(dy), dgamma = sum(dy * xhat).
    let sums: Vec<(f32, f32)> = (0..s.channels)
        .into_par_iter()
        .map(|c| {
            let (m, i) = (f64::from(mean[c]), f64::from(inv[c]));
            let (mut sum_dy, mut sum_dy_xhat) = (0f64, 0f64);
            for (xr, dr) in s.rows(x, c).zip(s.rows(dy, c)) {
                for (&x, &d) in xr.iter().zip(dr) {
                    sum_dy += f64::from(d);
                    sum_dy_xhat += f64::from(d) * (f64::from(x) - m) * i;
                }
            }
            (sum_dy as f32, sum_dy_xhat as f32)
        })
        .collect();
    let (dbeta, dgamma): (Vec<f32>, Vec<f32>) = sums.into_iter().unzip();
    // dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)).
    let n = s.count() as f32;
    let mut dx = vec![0.0; x.len()];
    if s.spatial > 0 {
        let rows = dx.par_chunks_mut(s.spatial).zip(x.par_chunks(s.spatial).zip(dy.par_chunks(s.spatial)));
        rows.enumerate().for_each(|(plane, (dxr, (xr, dr)))| {
            let c = plane % s.channels;
            let (scale, m, i) = (gamma[c] * inv[c], mean[c], inv[c]);
            let (mean_dy, mean_dy_xhat) = (dbeta[c] / n, dgamma[c] / n);
            for ((dx, &x), &d) in dxr.iter_mut().zip(xr).zip(dr) {
                *dx = scale * (d - mean_dy - (x - m) * i * mean_dy_xhat);
            }
        });
    }
    (dx, dgamma, dbeta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 250.0 - 2.0).collect()
    }

    /// The loss `sum(y * r)` through fresh statistics, as training computes it.
    fn loss(s: &NormShape, x: &[f32], g: &[f32], b: &[f32], r: &[f32]) -> f64 {
        let (m, v) = stats(s, x);
        forward(s, x, g, b, &m, &v, 1e-3).iter().zip(r).map(|(y, r)| f64::from(*y) * f64::from(*r)).sum()
    }

    #[test]
    fn normalises_and_its_gradients_match_finite_differences() {
        let s = NormShape { batch: 3, channels: 2, spatial: 5 };
        let (x, g, b) = (values(30, 1), vec![1.5, -0.5], vec![0.2, 0.7]);
        let (m, v) = stats(&s, &x);
        let y = forward(&s, &x, &g, &b, &m, &v, 1e-3);
        // Each channel of (y - beta) / gamma has mean 0 and variance var / (var + eps).
        for c in 0..2 {
            let ys: Vec<f64> = s.rows(&y, c).flatten().map(|&y| f64::from((y - b[c]) / g[c])).collect();
            let mean = ys.iter().sum::<f64>() / 15.0;
            let var = ys.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / 15.0;
            let want = f64::from(v[c]) / (f64::from(v[c]) + 1e-3);
            assert!(mean.abs() < 1e-5 && (var - want).abs() < 1e-4, "channel {c}: {mean} {var}");
        }
        let r = values(30, 9);
        let (dx, dg, db) = backward(&s, &x, &g, &m, &v, 1e-3, &r);
        let eps = 1e-2f32;
        let numeric = |which: usize, i: usize| {
            let bump = |d: f32| {
                let (mut x2, mut g2, mut b2) = (x.clone(), g.clone(), b.clone());
                [&mut x2, &mut g2, &mut b2][which][i] += d;
                loss(&s, &x2, &g2, &b2, &r)
            };
            (bump(eps) - bump(-eps)) / (2.0 * f64::from(eps))
        };
        for (which, analytic) in [&dx, &dg, &db].into_iter().enumerate() {
            for (i, a) in analytic.iter().enumerate() {
                let n = numeric(which, i);
                assert!((f64::from(*a) - n).abs() < 2e-3 * n.abs().max(1.0), "grad {which}[{i}]: {a} vs {n}");
            }
        }
    }
}
