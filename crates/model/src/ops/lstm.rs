//! The LSTM cell after its matrix product, in one pass: the gates' activations, the new cell
//! state and the new hidden state, and the hand-derived backward pass.
//!
//! Why by hand: through burn's tensors the cell is about twenty element-wise operations a time
//! step (slices, sigmoids, products, sums), each allocating its output and, under autodiff, a
//! graph node; on a batch of 32 x 64 units that bookkeeping, not the arithmetic, was the step's
//! cost (profile of an lstm training step: expf 21%, memmove and malloc/free 15%).
//!
//! [`Layer`] runs a whole layer over the sequence the same way, its products on gemm: one
//! operator a layer instead of six a time step (burn wakes worker threads for each of them, so
//! a second thread made training slower, not faster).

use crate::kernels::{gemm, MatRef};

/// e^x, branch-free so that loops over slices of it vectorise (libm's expf is a scalar call: 21%
/// of an lstm training step in the profile). Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2, a
/// degree-6 polynomial for e^r (relative error about 1e-7), 2^n put in the exponent bits. The
/// input is clamped where f32 overflows or goes subnormal; a NaN stays NaN.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and removing 1.5 * 2^23 rounds to the nearest integer in plain float arithmetic.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
        p = p * r + c;
    }
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh(x) = 2 sigmoid(2x) - 1: one exp, where libm's tanhf cost three sigmoids in the profile.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

/// Gates pre-activation `[B, 4H]` (input, forget, output, cell candidate) and the previous cell
/// state `[B, H]` -> `[B, 2H]`: the new hidden state and the new cell state side by side; and the
/// activated gates `[B, 4H]`, which the backward pass reads.
pub fn forward(gates: &[f32], c_prev: &[f32], h: usize) -> (Vec<f32>, Vec<f32>) {
    let rows = c_prev.len().checked_div(h).unwrap_or(0);
    assert!(gates.len() == 4 * rows * h && c_prev.len() == rows * h, "lstm cell: sizes");
    let mut out = vec![0.0; 2 * rows * h];
    let mut acts = vec![0.0; 4 * rows * h];
    if h == 0 {
        return (out, acts);
    }
    // One thread: a step's cell is microseconds, less than waking another. Each activation is
    // a pass over a contiguous run, so the loops vectorise.
    acts.copy_from_slice(gates);
    let parts = out.chunks_mut(2 * h).zip(acts.chunks_mut(4 * h)).zip(c_prev.chunks(h));
    for ((o, a), c) in parts {
        let (sig, cand) = a.split_at_mut(3 * h);
        sig.iter_mut().for_each(|v| *v = sigmoid(*v));
        cand.iter_mut().for_each(|v| *v = tanh(*v));
        let (hid, cell) = o.split_at_mut(h);
        for j in 0..h {
            cell[j] = a[h + j] * c[j] + a[j] * a[3 * h + j];
        }
        for j in 0..h {
            hid[j] = a[2 * h + j] * tanh(cell[j]);
        }
    }
    (out, acts)
}

/// The gradients of [`forward`]: given `d_out` `[B, 2H]` (of the hidden and cell outputs), the
/// activated gates, the previous and new cell states, returns the gates' pre-activation
/// gradient `[B, 4H]` and the previous cell state's `[B, H]`.
pub fn backward(d_out: &[f32], acts: &[f32], c_prev: &[f32], out: &[f32], h: usize) -> (Vec<f32>, Vec<f32>) {
    let rows = c_prev.len().checked_div(h).unwrap_or(0);
    assert!(
        d_out.len() == 2 * rows * h && acts.len() == 4 * rows * h && out.len() == 2 * rows * h,
        "lstm cell backward: sizes"
    );
    let mut d_gates = vec![0.0; 4 * rows * h];
    let mut d_c_prev = vec![0.0; rows * h];
    for r in 0..rows {
        let (a, dg) = (&acts[4 * r * h..4 * (r + 1) * h], &mut d_gates[4 * r * h..4 * (r + 1) * h]);
        let (d, o) = (&d_out[2 * r * h..2 * (r + 1) * h], &out[2 * r * h..2 * (r + 1) * h]);
        for j in 0..h {
            let (i, f, og, u) = (a[j], a[h + j], a[2 * h + j], a[3 * h + j]);
            let (dh, c) = (d[j], o[h + j]);
            let tc = tanh(c);
            // dc: what reaches the new cell state, from the next step and through h = o tanh(c).
            let dc = d[h + j] + dh * og * (1.0 - tc * tc);
            dg[j] = dc * u * i * (1.0 - i);
            dg[h + j] = dc * c_prev[r * h + j] * f * (1.0 - f);
            dg[2 * h + j] = dh * tc * og * (1.0 - og);
            dg[3 * h + j] = dc * i * (1.0 - u * u);
            d_c_prev[r * h + j] = dc * f;
        }
    }
    (d_gates, d_c_prev)
}

/// One LSTM layer over a sequence: input `x` `[B, T, D]`, weights `[D + H, 4H]` (the input's rows,
/// then the hidden state's; gates input, forget, output, candidate), bias `[4H]`; hidden states
/// `[B, T, H]`, starting from zero state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    pub batch: usize,
    pub steps: usize,
    pub input: usize,
    pub hidden: usize,
}

/// What the backward pass reads: each step's activated gates and `[h | c]` output, `[T, B, ...]`.
#[derive(Debug, Clone)]
pub struct Trace {
    acts: Vec<f32>,
    outs: Vec<f32>,
}

impl Layer {
    fn gates(&self) -> usize {
        4 * self.hidden
    }
    /// `g += seq_t · w`, where step `t` of the `[B, T, width]` sequence is the `[B, width]`
    /// matrix whose row `b` starts at `b * T * width + t * width`.
    fn product(&self, seq: &[f32], width: usize, t: usize, w: &[f32], g: &mut [f32]) {
        let lhs = MatRef::new(&seq[t * width..], self.steps * width, 1);
        gemm(self.batch, self.gates(), width, (g, self.gates()), lhs, MatRef::new(w, self.gates(), 1), true);
    }

    /// The hidden states, and with `keep_trace` what [`Layer::backward`] reads (inference keeps
    /// nothing: the trace is `T` times the gates of a step).
    pub fn forward(&self, x: &[f32], weight: &[f32], bias: &[f32], keep_trace: bool) -> (Vec<f32>, Trace) {
        let (b, t_n, d, h, g4) = (self.batch, self.steps, self.input, self.hidden, self.gates());
        assert!(x.len() == b * t_n * d && weight.len() == (d + h) * g4 && bias.len() == g4, "lstm layer: sizes");
        let (w_x, w_h) = weight.split_at(d * g4);
        let mut hs = vec![0.0; b * t_n * h];
        if h == 0 {
            return (hs, Trace { acts: vec![], outs: vec![] });
        }
        let keep = |n: usize| Vec::with_capacity(if keep_trace { n } else { 0 });
        let mut trace = Trace { acts: keep(t_n * b * g4), outs: keep(t_n * b * 2 * h) };
        let mut g = vec![0.0; b * g4];
        let mut c = vec![0.0; b * h];
        for t in 0..t_n {
            g.chunks_exact_mut(g4).for_each(|row| row.copy_from_slice(bias));
            self.product(x, d, t, w_x, &mut g);
            if t > 0 {
                self.product(&hs, h, t - 1, w_h, &mut g);
            }
            let (out, acts) = forward(&g, &c, h);
            for (r, o) in out.chunks_exact(2 * h).enumerate() {
                hs[r * t_n * h + t * h..][..h].copy_from_slice(&o[..h]);
                c[r * h..(r + 1) * h].copy_from_slice(&o[h..]);
            }
            if keep_trace {
                trace.acts.extend(acts);
                trace.outs.extend(out);
            }
        }
        (hs, trace)
    }

    /// Backpropagation through time: given the hidden states' gradient `[B, T, H]`, the gradients
    /// of `x`, of the weights and of the bias.
    pub fn backward(&self, x: &[f32], weight: &[f32], trace: &Trace, d_hs: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (b, t_n, d, h, g4) = (self.batch, self.steps, self.input, self.hidden, self.gates());
        assert_eq!(d_hs.len(), b * t_n * h, "lstm layer: gradient size");
        let (w_x, w_h) = weight.split_at(d * g4);
        let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; weight.len()], vec![0.0; g4]);
        if h == 0 {
            return (dx, dw, db);
        }
        let (dw_x, dw_h) = dw.split_at_mut(d * g4);
        // What flows into step t from step t + 1: the hidden state's and the cell state's gradients.
        let (mut dh_next, mut dc_next) = (vec![0.0; b * h], vec![0.0; b * h]);
        let mut c_prev = vec![0.0; b * h];
        let mut d_out = vec![0.0; b * 2 * h];
        for t in (0..t_n).rev() {
            for r in 0..b {
                let (dh, dc) = d_out[r * 2 * h..(r + 1) * 2 * h].split_at_mut(h);
                let from_loss = &d_hs[r * t_n * h + t * h..][..h];
                dh.iter_mut().zip(from_loss).zip(&dh_next[r * h..]).for_each(|((o, a), n)| *o = a + n);
                dc.copy_from_slice(&dc_next[r * h..(r + 1) * h]);
            }
            let acts = &trace.acts[t * b * g4..(t + 1) * b * g4];
            let out = &trace.outs[t * b * 2 * h..(t + 1) * b * 2 * h];
            // The previous cell state is the second half of the previous step's output rows.
            if t > 0 {
                let prev = trace.outs[(t - 1) * b * 2 * h..t * b * 2 * h].chunks_exact(2 * h);
                c_prev.chunks_exact_mut(h).zip(prev).for_each(|(c, o)| c.copy_from_slice(&o[h..]));
            } else {
                c_prev.fill(0.0);
            }
            let (dg, dc_prev) = backward(&d_out, acts, &c_prev, out, h);
            for row in dg.chunks_exact(g4) {
                db.iter_mut().zip(row).for_each(|(a, v)| *a += v);
            }
            // dw_x += x_t^T · dg, dx_t = dg · w_x^T.
            let x_t = MatRef::new(&x[t * d..], 1, t_n * d);
            gemm(d, g4, b, (&mut *dw_x, g4), x_t, MatRef::new(&dg, g4, 1), true);
            let w_x_t = MatRef::new(w_x, 1, g4);
            gemm(b, d, g4, (&mut dx[t * d..], t_n * d), MatRef::new(&dg, g4, 1), w_x_t, false);
            // dw_h += h_{t-1}^T · dg, and the gradient reaching h_{t-1}: dg · w_h^T.
            if t > 0 {
                let out_prev = &trace.outs[(t - 1) * b * 2 * h..];
                gemm(h, g4, b, (&mut *dw_h, g4), MatRef::new(out_prev, 1, 2 * h), MatRef::new(&dg, g4, 1), true);
            }
            gemm(b, h, g4, (&mut dh_next, h), MatRef::new(&dg, g4, 1), MatRef::new(w_h, 1, g4), false);
            dc_next = dc_prev;
        }
        (dx, dw, db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 300.0 - 1.6).collect()
    }

    #[test]
    fn exp_is_libms_to_a_few_ulp() {
        let mut worst = 0f64;
        for i in -8699..8799 {
            let x = i as f32 * 0.01 + 0.003;
            let (ours, want) = (f64::from(exp(x)), f64::from(x).exp());
            worst = worst.max((ours - want).abs() / want);
        }
        assert!(worst < 5e-7, "relative error {worst}");
        assert!(exp(f32::NAN).is_nan() && exp(-1000.0) >= 0.0 && exp(1000.0).is_finite());
        assert!(sigmoid(-1000.0) < 1e-37 && sigmoid(1000.0) == 1.0);
    }

    #[test]
    fn cell_matches_its_definition_and_finite_differences() {
        let (rows, h) = (3, 5);
        let (g, c) = (values(4 * rows * h, 1), values(rows * h, 2));
        let (out, acts) = forward(&g, &c, h);
        for r in 0..rows {
            for j in 0..h {
                let gi = |k: usize| f64::from(g[r * 4 * h + k * h + j]);
                let s = |x: f64| 1.0 / (1.0 + (-x).exp());
                let cell = s(gi(1)) * f64::from(c[r * h + j]) + s(gi(0)) * gi(3).tanh();
                let hid = s(gi(2)) * cell.tanh();
                assert!((f64::from(out[r * 2 * h + h + j]) - cell).abs() < 1e-6, "cell state");
                assert!((f64::from(out[r * 2 * h + j]) - hid).abs() < 1e-6, "hidden state");
            }
        }
        // Central differences of sum(out * w) for a fixed w.
        let w = values(2 * rows * h, 3);
        let loss = |g: &[f32], c: &[f32]| -> f64 {
            forward(g, c, h).0.iter().zip(&w).map(|(o, w)| f64::from(*o) * f64::from(*w)).sum()
        };
        let (dg, dc) = backward(&w, &acts, &c, &out, h);
        let eps = 1e-2f32;
        for k in 0..g.len() {
            let (mut up, mut down) = (g.clone(), g.clone());
            up[k] += eps;
            down[k] -= eps;
            let n = (loss(&up, &c) - loss(&down, &c)) / (2.0 * f64::from(eps));
            assert!((f64::from(dg[k]) - n).abs() < 1e-3, "d_gates[{k}]: {} vs {n}", dg[k]);
        }
        for k in 0..c.len() {
            let (mut up, mut down) = (c.clone(), c.clone());
            up[k] += eps;
            down[k] -= eps;
            let n = (loss(&g, &up) - loss(&g, &down)) / (2.0 * f64::from(eps));
            assert!((f64::from(dc[k]) - n).abs() < 1e-3, "d_c_prev[{k}]: {} vs {n}", dc[k]);
        }
    }
}
