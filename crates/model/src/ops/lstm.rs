//! The LSTM cell after its matrix product, in one pass: the gates' activations, the new cell
//! state and the new hidden state, and the hand-derived backward pass.
//!
//! Why by hand: through burn's tensors the cell is about twenty element-wise operations a time
//! step (slices, sigmoids, products, sums), each allocating its output and, under autodiff, a
//! graph node; on a batch of 32 x 64 units that bookkeeping, not the arithmetic, was the step's
//! cost (profile of an lstm training step: expf 21%, memmove and malloc/free 15%).

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// tanh(x) = 2 sigmoid(2x) - 1: one exp, where libm's tanhf cost three sigmoids in the profile.
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
    let parts = out.chunks_mut(2 * h).zip(acts.chunks_mut(4 * h)).zip(gates.chunks(4 * h).zip(c_prev.chunks(h)));
    // One thread: a step's cell is microseconds, less than waking another.
    for ((o, a), (g, c)) in parts {
        let (hid, cell) = o.split_at_mut(h);
        for j in 0..h {
            let (i, f, og, u) = (sigmoid(g[j]), sigmoid(g[h + j]), sigmoid(g[2 * h + j]), tanh(g[3 * h + j]));
            (a[j], a[h + j], a[2 * h + j], a[3 * h + j]) = (i, f, og, u);
            cell[j] = f * c[j] + i * u;
            hid[j] = og * tanh(cell[j]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 300.0 - 1.6).collect()
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
