//! 2-D convolution (stride 1, no dilation, one group, any kernel and padding) on plain slices:
//! forward, and the gradients of input, weights and bias, each an im2col (or col2im) plus one
//! matrix product per batch item.
//!
//! Why by hand: burn-flex's convolution spends more time on bounds-checked gathers and layout
//! copies than in its products, and computes the weight gradient as a convolution of the input
//! with the output gradient through the same slow path (profile of a cnn training step: conv
//! forward 35%, weight gradient 14%, input gradient 10%, layout copies 11%; gemm itself 17%).
//! Here each item's unfolded input is built by contiguous row copies into a reused buffer and
//! handed to gemm in place.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::kernels::{gemm, MatRef};

/// The geometry of one convolution: input `[batch, cin, h, w]`, weights `[cout, cin, kh, kw]`,
/// zero padding `[top, bottom, left, right]`, output `[batch, cout, out_h, out_w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub pad: [usize; 4],
}

impl ConvShape {
    pub fn out_h(&self) -> usize {
        (self.h + self.pad[0] + self.pad[1] + 1).saturating_sub(self.kh)
    }
    pub fn out_w(&self) -> usize {
        (self.w + self.pad[2] + self.pad[3] + 1).saturating_sub(self.kw)
    }
    /// Output pixels per channel.
    fn pixels(&self) -> usize {
        self.out_h() * self.out_w()
    }
    /// Taps per filter (`cin * kh * kw`): the rows of the unfolded input.
    fn taps(&self) -> usize {
        self.cin * self.kh * self.kw
    }
    fn in_item(&self) -> usize {
        self.cin * self.h * self.w
    }
    fn out_item(&self) -> usize {
        self.cout * self.pixels()
    }
    /// For tap `(ky, kx)` and output row `oy`: the input row read (None in the padding), and the
    /// output columns `[x0, x1)` whose input column `ox + kx - left` lies inside the image.
    fn tap_row(&self, ky: usize, kx: usize, oy: usize) -> Option<(usize, usize, usize)> {
        let iy = (oy + ky).checked_sub(self.pad[0]).filter(|&iy| iy < self.h)?;
        let left = self.pad[2];
        let x0 = left.saturating_sub(kx);
        let x1 = (self.w + left).saturating_sub(kx).min(self.out_w());
        Some((iy, x0, x1.max(x0)))
    }
}

thread_local! {
    /// The unfolded input (or its gradient) of one item, reused across calls on the same thread.
    static COLS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` with this thread's unfolded-input buffer, at least `len` long.
fn with_cols<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    COLS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < len {
            c.resize(len, 0.0);
        }
        f(&mut c[..len])
    })
}

/// Unfold one item `x` (`[cin, h, w]`) into `cols` (`[taps, pixels]`, row `(ci, ky, kx)` holding
/// the input each output pixel sees through that tap; zero in the padding).
fn im2col(s: &ConvShape, x: &[f32], cols: &mut [f32]) {
    let (oh, ow, p) = (s.out_h(), s.out_w(), s.pixels());
    let mut rows = cols.chunks_exact_mut(p);
    for ci in 0..s.cin {
        let plane = &x[ci * s.h * s.w..(ci + 1) * s.h * s.w];
        for ky in 0..s.kh {
            for kx in 0..s.kw {
                let row = rows.next().expect("taps rows");
                for oy in 0..oh {
                    let out = &mut row[oy * ow..(oy + 1) * ow];
                    match s.tap_row(ky, kx, oy) {
                        Some((iy, x0, x1)) => {
                            out[..x0].fill(0.0);
                            let from = iy * s.w + x0 + kx - s.pad[2];
                            out[x0..x1].copy_from_slice(&plane[from..from + (x1 - x0)]);
                            out[x1..].fill(0.0);
                        }
                        None => out.fill(0.0),
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: add each row of `cols` back onto the input positions it was read from.
fn col2im(s: &ConvShape, cols: &[f32], dx: &mut [f32]) {
    let (oh, ow, p) = (s.out_h(), s.out_w(), s.pixels());
    let mut rows = cols.chunks_exact(p);
    for ci in 0..s.cin {
        let plane = &mut dx[ci * s.h * s.w..(ci + 1) * s.h * s.w];
        for ky in 0..s.kh {
            for kx in 0..s.kw {
                let row = rows.next().expect("taps rows");
                for oy in 0..oh {
                    if let Some((iy, x0, x1)) = s.tap_row(ky, kx, oy) {
                        let from = iy * s.w + x0 + kx - s.pad[2];
                        let src = &row[oy * ow + x0..oy * ow + x1];
                        plane[from..from + src.len()].iter_mut().zip(src).for_each(|(d, v)| *d += v);
                    }
                }
            }
        }
    }
}

fn check(s: &ConvShape, x: &[f32], weight: &[f32]) {
    assert_eq!(x.len(), s.batch * s.in_item(), "conv2d: input size");
    assert_eq!(weight.len(), s.cout * s.taps(), "conv2d: weight size");
}

/// `y = conv(x, weight) + bias`, `[batch, cout, out_h, out_w]`.
pub fn forward(s: &ConvShape, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
    check(s, x, weight);
    assert_eq!(bias.len(), s.cout, "conv2d: bias size");
    let (p, k) = (s.pixels(), s.taps());
    let mut y = vec![0.0; s.batch * s.out_item()];
    if p == 0 {
        return y;
    }
    y.par_chunks_mut(s.out_item()).zip(x.par_chunks(s.in_item().max(1))).for_each(|(yb, xb)| {
        for (row, b) in yb.chunks_exact_mut(p).zip(bias) {
            row.fill(*b);
        }
        with_cols(k * p, |cols| {
            im2col(s, xb, cols);
            // y[cout, p] += weight[cout, k] · cols[k, p]
            gemm(s.cout, p, k, (yb, p), MatRef::new(weight, k, 1), MatRef::new(cols, p, 1), true);
        });
    });
    y
}

/// The gradients of [`forward`] given the output's gradient `dy`: `(dx, dweight, dbias)`; `dx`
/// only when asked (a network's input needs none).
pub fn backward(
    s: &ConvShape,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    want_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    check(s, x, weight);
    let (p, k) = (s.pixels(), s.taps());
    assert_eq!(dy.len(), s.batch * s.out_item(), "conv2d: output gradient size");
    let mut dx = want_dx.then(|| vec![0.0; s.batch * s.in_item()]);
    // Per item: dweight_b = dy_b · cols_b^T, dbias_b = row sums of dy_b, and
    // dx_b = col2im(weight^T · dy_b). Items run in parallel; the per-item sums are then added in
    // item order, so the result does not depend on how rayon split the work (same seed, same
    // training run, whatever the thread count).
    let mut per_item = vec![0.0; s.batch * (s.cout * k + s.cout)];
    let item = |b: usize, acc: &mut [f32], dxb: Option<&mut [f32]>| {
        let (dw, db) = acc.split_at_mut(s.cout * k);
        let xb = &x[b * s.in_item()..(b + 1) * s.in_item()];
        let dyb = &dy[b * s.out_item()..(b + 1) * s.out_item()];
        if p > 0 {
            with_cols(k * p, |cols| {
                im2col(s, xb, cols);
                // dw[cout, k] = dy_b[cout, p] · cols[k, p]^T
                gemm(s.cout, k, p, (dw, k), MatRef::new(dyb, p, 1), MatRef::new(cols, 1, p), false);
                if let Some(dxb) = dxb {
                    // cols[k, p] = weight[cout, k]^T · dy_b[cout, p]
                    gemm(k, p, s.cout, (cols, p), MatRef::new(weight, 1, k), MatRef::new(dyb, p, 1), false);
                    col2im(s, cols, dxb);
                }
            });
        }
        for (d, row) in db.iter_mut().zip(dyb.chunks_exact(p.max(1))) {
            *d = row.iter().sum::<f32>();
        }
    };
    let acc_len = s.cout * k + s.cout;
    let accs = per_item.par_chunks_mut(acc_len.max(1)).enumerate();
    match dx.as_mut() {
        Some(dx) => accs.zip(dx.par_chunks_mut(s.in_item().max(1))).for_each(|((b, acc), dxb)| item(b, acc, Some(dxb))),
        None => accs.for_each(|(b, acc)| item(b, acc, None)),
    }
    let mut sum = vec![0.0; acc_len];
    for acc in per_item.chunks_exact(acc_len.max(1)) {
        sum.iter_mut().zip(acc).for_each(|(a, v)| *a += v);
    }
    let db = sum.split_off(s.cout * k);
    (dx, sum, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, loop by loop.
    fn naive(s: &ConvShape, x: &[f32], w: &[f32], bias: &[f32]) -> Vec<f32> {
        let (oh, ow) = (s.out_h(), s.out_w());
        let mut y = vec![0.0; s.batch * s.cout * oh * ow];
        for b in 0..s.batch {
            for co in 0..s.cout {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = bias[co];
                        for ci in 0..s.cin {
                            for ky in 0..s.kh {
                                for kx in 0..s.kw {
                                    let (iy, ix) = (oy + ky, ox + kx);
                                    if iy < s.pad[0] || ix < s.pad[2] || iy - s.pad[0] >= s.h || ix - s.pad[2] >= s.w {
                                        continue;
                                    }
                                    let xv = x[((b * s.cin + ci) * s.h + iy - s.pad[0]) * s.w + ix - s.pad[2]];
                                    acc += xv * w[((co * s.cin + ci) * s.kh + ky) * s.kw + kx];
                                }
                            }
                        }
                        y[((b * s.cout + co) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        y
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    fn shapes() -> Vec<ConvShape> {
        let s = |batch, cin, h, w, cout, kh, kw, pad| ConvShape { batch, cin, h, w, cout, kh, kw, pad };
        vec![
            s(2, 3, 7, 9, 4, 3, 3, [1, 1, 1, 1]),
            s(1, 2, 5, 4, 3, 1, 1, [0, 0, 0, 0]),
            s(3, 1, 6, 8, 2, 4, 2, [1, 2, 0, 1]),
            s(1, 2, 2, 3, 2, 5, 5, [2, 2, 2, 2]), // kernel wider than the image
        ]
    }

    #[test]
    fn forward_matches_the_definition() {
        for s in shapes() {
            let (x, w, b) = (values(s.batch * s.in_item(), 1), values(s.cout * s.taps(), 2), values(s.cout, 3));
            let got = forward(&s, &x, &w, &b);
            let want = naive(&s, &x, &w, &b);
            assert_eq!(got.len(), want.len(), "{s:?}");
            for (g, v) in got.iter().zip(&want) {
                assert!((g - v).abs() < 1e-4, "{s:?}: {g} vs {v}");
            }
        }
    }

    /// Each gradient against central differences of `sum(forward · r)` for a fixed random `r`
    /// (f64 loss over f32 values: steps of 1e-2 keep the rounding well under the tolerance).
    #[test]
    fn gradients_match_finite_differences() {
        for s in shapes() {
            let (x, w, b) = (values(s.batch * s.in_item(), 4), values(s.cout * s.taps(), 5), values(s.cout, 6));
            let r = values(s.batch * s.out_item(), 7);
            let loss = |x: &[f32], w: &[f32], b: &[f32]| -> f64 {
                forward(&s, x, w, b).iter().zip(&r).map(|(y, r)| f64::from(*y) * f64::from(*r)).sum()
            };
            let (dx, dw, db) = backward(&s, &x, &w, &r, true);
            let dx = dx.expect("asked for dx");
            // Each analytic gradient against central differences of the loss in that argument.
            let agree = |name: &str, v: &[f32], analytic: &[f32], f: &dyn Fn(&[f32]) -> f64| {
                let eps = 1e-2f32;
                for (i, g) in analytic.iter().enumerate() {
                    let (mut up, mut down) = (v.to_vec(), v.to_vec());
                    up[i] += eps;
                    down[i] -= eps;
                    let n = (f(&up) - f(&down)) / (2.0 * f64::from(eps));
                    assert!((f64::from(*g) - n).abs() < 2e-3, "{s:?} {name}[{i}]: {g} vs {n}");
                }
            };
            agree("dx", &x, &dx, &|v| loss(v, &w, &b));
            agree("dw", &w, &dw, &|v| loss(&x, v, &b));
            agree("db", &b, &db, &|v| loss(&x, &w, v));
            let (none, dw2, db2) = backward(&s, &x, &w, &r, false);
            assert!(none.is_none());
            assert_eq!((dw2, db2), (dw, db), "{s:?}: dx's absence changes nothing else");
        }
    }
}
