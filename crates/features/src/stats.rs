//! Summary statistics with numpy's conventions (population variance, f64 accumulation).

/// `np.mean`, accumulated in f64.
pub fn mean(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64
}

/// `np.var` (ddof = 0), two-pass in f64.
pub fn var(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let m = mean(x);
    x.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / x.len() as f64
}

/// Median of a slice (NaN-free input), by selection.
pub fn median(x: &mut [f32]) -> f32 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    let (_, m, _) = x.select_nth_unstable_by(n / 2, |a, b| a.total_cmp(b));
    let upper = *m;
    if n % 2 == 1 {
        upper
    } else {
        let lower = x[..n / 2].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (lower + upper) / 2.0
    }
}
