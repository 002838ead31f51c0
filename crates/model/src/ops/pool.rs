//! Max pooling over non-overlapping windows (kernel = stride, no padding, floor), keeping the
//! argmax for the backward pass.
//!
//! Why by hand: burn-flex pools through its generic 3-D routine, which recomputes the valid window
//! range and branches on padding and dilation for every output element (20% of a cnn training
//! step in the profile). With windows that tile the plane, each output row is a fixed sweep.

use rayon::prelude::*;

/// Input `[planes, h, w]` (planes = batch x channels), window `kh x kw`; the output is
/// `[planes, h / kh, w / kw]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
}

impl PoolShape {
    pub fn out_h(&self) -> usize {
        self.h.checked_div(self.kh).unwrap_or(0)
    }
    pub fn out_w(&self) -> usize {
        self.w.checked_div(self.kw).unwrap_or(0)
    }
    fn in_plane(&self) -> usize {
        self.h * self.w
    }
    fn out_plane(&self) -> usize {
        self.out_h() * self.out_w()
    }
}

/// The maximum of one window and its index in the plane. Ties keep the first; a NaN wins and the
/// last NaN is kept, as burn and PyTorch do, so a NaN reaches the loss instead of vanishing.
#[inline]
fn window_max(s: &PoolShape, plane: &[f32], oy: usize, ox: usize) -> (f32, u32) {
    let first = oy * s.kh * s.w + ox * s.kw;
    let (mut best, mut at) = (plane[first], first);
    for ky in 0..s.kh {
        let row = first + ky * s.w;
        for (i, &v) in plane[row..row + s.kw].iter().enumerate() {
            if v > best || v.is_nan() {
                (best, at) = (v, row + i);
            }
        }
    }
    (best, at as u32)
}

/// Pooled values and, when `argmax` is given (`[planes, out_h, out_w]`), where each came from.
fn pool(s: &PoolShape, x: &[f32], y: &mut [f32], argmax: Option<&mut [u32]>) {
    assert_eq!(x.len(), s.planes * s.in_plane(), "max_pool2d: input size");
    let (op, ow) = (s.out_plane(), s.out_w());
    if op == 0 {
        return;
    }
    let run = |(b, yp): (usize, &mut [f32]), mut ap: Option<&mut [u32]>| {
        let plane = &x[b * s.in_plane()..(b + 1) * s.in_plane()];
        for (o, v) in yp.iter_mut().enumerate() {
            let (best, at) = window_max(s, plane, o / ow, o % ow);
            *v = best;
            if let Some(ap) = ap.as_deref_mut() {
                ap[o] = at;
            }
        }
    };
    match argmax {
        Some(a) => y.par_chunks_mut(op).enumerate().zip(a.par_chunks_mut(op)).for_each(|(p, ap)| run(p, Some(ap))),
        None => y.par_chunks_mut(op).enumerate().for_each(|p| run(p, None)),
    }
}

/// `[planes, out_h, out_w]` maxima.
pub fn forward(s: &PoolShape, x: &[f32]) -> Vec<f32> {
    let mut y = vec![0.0; s.planes * s.out_plane()];
    pool(s, x, &mut y, None);
    y
}

/// The maxima and their indices within each input plane.
pub fn forward_with_argmax(s: &PoolShape, x: &[f32]) -> (Vec<f32>, Vec<u32>) {
    let mut y = vec![0.0; s.planes * s.out_plane()];
    let mut at = vec![0; y.len()];
    pool(s, x, &mut y, Some(&mut at));
    (y, at)
}

/// The input's gradient: each output's gradient goes to the input it came from (windows do not
/// overlap, so no two outputs share one); the rest is zero.
pub fn backward(s: &PoolShape, dy: &[f32], argmax: &[u32]) -> Vec<f32> {
    let op = s.out_plane();
    assert!(dy.len() == s.planes * op && argmax.len() == dy.len(), "max_pool2d: gradient size");
    let mut dx = vec![0.0; s.planes * s.in_plane()];
    if op == 0 {
        return dx;
    }
    dx.par_chunks_mut(s.in_plane()).zip(dy.par_chunks(op).zip(argmax.par_chunks(op))).for_each(|(dxp, (g, a))| {
        for (&g, &i) in g.iter().zip(a) {
            dxp[i as usize] = g;
        }
    });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_windows_and_routes_gradients_to_their_maxima() {
        // One 4x5 plane, 2x2 windows: the last column is dropped (floor), as burn does.
        let x: Vec<f32> = vec![
            1.0, 5.0, 2.0, 2.0, 9.0, //
            3.0, 4.0, 7.0, 2.0, 9.0, //
            0.0, -1.0, 6.0, 8.0, 9.0, //
            -2.0, -3.0, 8.0, 1.0, 9.0,
        ];
        let s = PoolShape { planes: 1, h: 4, w: 5, kh: 2, kw: 2 };
        let (y, at) = forward_with_argmax(&s, &x);
        assert_eq!(y, vec![5.0, 7.0, 0.0, 8.0]);
        assert_eq!(at, vec![1, 7, 10, 13], "ties keep the first (8.0 at 13 and 17)");
        assert_eq!(forward(&s, &x), y);
        let dx = backward(&s, &[10.0, 20.0, 30.0, 40.0], &at);
        let mut want = vec![0.0; 20];
        for (i, g) in [(1, 10.0), (7, 20.0), (10, 30.0), (13, 40.0)] {
            want[i] = g;
        }
        assert_eq!(dx, want);
    }

    #[test]
    fn nan_wins_its_window() {
        let s = PoolShape { planes: 2, h: 1, w: 4, kh: 1, kw: 2 };
        let (y, at) = forward_with_argmax(&s, &[f32::NAN, 1.0, 2.0, f32::NAN, 3.0, 4.0, 5.0, 1.0]);
        assert!(y[0].is_nan() && y[1].is_nan());
        assert_eq!((&y[2..], &at[..]), (&[4.0, 5.0][..], &[0, 3, 1, 2][..]));
    }
}
