//! Learning curves and confusion matrices as pictures.

use std::path::Path;

use crate::canvas::{blues, Canvas, Color, BLACK, GREY, WHITE};
use crate::spectrogram::nice_step;

/// Distinct line colours.
pub const PALETTE: [Color; 6] =
    [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75]];

/// Lines over a shared x axis (1, 2, 3, ...: epochs); each series is drawn in its own colour with
/// a legend. Two panels can be made by calling twice (e.g. loss and accuracy).
pub fn line_chart(path: &Path, title: &str, xlabel: &str, series: &[(&str, Vec<f64>)]) -> std::io::Result<()> {
    let (w, h) = (720i64, 420i64);
    let (left, right, top, bottom) = (70i64, 160i64, 40i64, 50i64);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let mut c = Canvas::new(w as u32, h as u32, WHITE);
    c.text(left, 12, title, BLACK, 2);
    let n = series.iter().map(|(_, v)| v.len()).max().unwrap_or(0).max(2);
    let finite = series.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite());
    let (mut lo, mut hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let x_of = |i: usize| left + (i as f64 / (n - 1) as f64 * pw as f64) as i64;
    let y_of = |v: f64| top + ph - ((v - lo) / (hi - lo) * ph as f64) as i64;
    // grid and y ticks
    let step = nice_step((hi - lo) / 5.0);
    let mut v = (lo / step).ceil() * step;
    while v <= hi + 1e-12 {
        let y = y_of(v);
        c.line((left, y), (left + pw, y), [230, 230, 230], 1);
        let label = if step >= 1.0 {
            format!("{v:.0}")
        } else if step >= 0.1 {
            format!("{v:.1}")
        } else {
            format!("{v:.2}")
        };
        c.text(left - 6 - Canvas::text_width(&label, 1), y - 4, &label, BLACK, 1);
        v += step;
    }
    c.line((left, top), (left, top + ph), GREY, 1);
    c.line((left, top + ph), (left + pw, top + ph), GREY, 1);
    let xstep = nice_step(n as f64 / 10.0).max(1.0) as usize;
    for i in (0..n).step_by(xstep) {
        let label = format!("{}", i + 1);
        c.text(x_of(i) - Canvas::text_width(&label, 1) / 2, top + ph + 8, &label, BLACK, 1);
    }
    c.text(left + pw / 2 - Canvas::text_width(xlabel, 1) / 2, top + ph + 28, xlabel, BLACK, 1);
    for (k, (name, vals)) in series.iter().enumerate() {
        let col = PALETTE[k % PALETTE.len()];
        let pts: Vec<(i64, i64)> =
            vals.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| (x_of(i), y_of(v))).collect();
        for p in pts.windows(2) {
            c.line(p[0], p[1], col, 2);
        }
        for &p in &pts {
            c.fill_rect(p.0 - 2, p.1 - 2, 5, 5, col);
        }
        let ly = top + 10 + 16 * k as i64;
        c.fill_rect(left + pw + 12, ly, 14, 8, col);
        c.text(left + pw + 30, ly, name, BLACK, 1);
    }
    c.save(path)
}

/// A confusion matrix `m[true][predicted]` with counts in the cells, rows normalised for colour.
pub fn confusion_png(path: &Path, m: &[Vec<usize>], classes: &[String], title: &str) -> std::io::Result<()> {
    let n = classes.len() as i64;
    let cell = 44i64;
    let label_w = classes.iter().map(|c| Canvas::text_width(c, 1)).max().unwrap_or(0) + 16;
    let (left, top) = (label_w + 20, 50 + label_w);
    let mut c = Canvas::new((left + n * cell + 20) as u32, (top + n * cell + 40) as u32, WHITE);
    c.text(10, 10, title, BLACK, 2);
    for (i, row) in m.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (j, &v) in row.iter().enumerate() {
            let frac = if total > 0 { v as f32 / total as f32 } else { 0.0 };
            let (x, y) = (left + j as i64 * cell, top + i as i64 * cell);
            c.fill_rect(x, y, cell - 1, cell - 1, blues(frac));
            let s = v.to_string();
            let col = if frac > 0.5 { WHITE } else { BLACK };
            c.text(x + cell / 2 - Canvas::text_width(&s, 1) / 2, y + cell / 2 - 4, &s, col, 1);
        }
        c.text(
            left - 8 - Canvas::text_width(&classes[i], 1),
            top + i as i64 * cell + cell / 2 - 4,
            &classes[i],
            BLACK,
            1,
        );
    }
    for (j, name) in classes.iter().enumerate() {
        c.text_vertical(left + j as i64 * cell + cell / 2 - 4, top - 8, name, BLACK, 1);
    }
    c.text(left, top + n * cell + 14, "predicted ->   (rows: true genre)", BLACK, 1);
    c.save(path)
}
