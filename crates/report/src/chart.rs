//! Learning curves and confusion matrices as pictures.

use std::path::Path;

use crate::canvas::{blues, Canvas, Color, BLACK, GREY, WHITE};
use crate::colorbar::{self, ColorBar};
use crate::spectrogram::{nice_step, tick_label};

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
        let label = tick_label(v, step);
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

/// A confusion matrix `m[true][predicted]` with counts in the cells, coloured by count (the
/// colour bar's unit: tracks). Cells are large for few classes (a 2-class run is read at a
/// glance) and at least 44 px for many; the canvas is as wide as its title and its colour bar.
pub fn confusion_png(path: &Path, m: &[Vec<usize>], classes: &[String], title: &str) -> std::io::Result<()> {
    let n = classes.len() as i64;
    let cell = (400 / n.max(1)).clamp(44, 90);
    let label_w = classes.iter().map(|c| Canvas::text_width(c, 1)).max().unwrap_or(0) + 16;
    // Room left of the row labels for the vertical "true genre", above the column labels for
    // "predicted genre".
    let (left, top) = (label_w + 30, 64 + label_w);
    let max = m.iter().flatten().copied().max().unwrap_or(0).max(1);
    let bar = ColorBar { colors: &blues, lo: 0.0, hi: max as f64, unit: "tracks", whole: true };
    let grid_w = n * cell;
    let width = (left + grid_w + 20).max(30 + Canvas::text_width(title, 2)).max(left + bar.width() + 20);
    let mut c = Canvas::new(width as u32, (top + grid_w + 24 + colorbar::HEIGHT) as u32, WHITE);
    c.text(10, 10, title, BLACK, 2);
    for (i, row) in m.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let frac = v as f32 / max as f32;
            let (x, y) = (left + j as i64 * cell, top + i as i64 * cell);
            c.fill_rect(x, y, cell - 1, cell - 1, blues(frac));
            let s = v.to_string();
            let col = if frac > 0.5 { WHITE } else { BLACK };
            c.text(x + cell / 2 - Canvas::text_width(&s, 1) / 2, y + cell / 2 - 4, &s, col, 1);
        }
    }
    for (k, name) in classes.iter().enumerate() {
        let mid = k as i64 * cell + cell / 2;
        c.text(left - 8 - Canvas::text_width(name, 1), top + mid - 4, name, BLACK, 1);
        c.text_vertical(left + mid - 4, top - 8, name, BLACK, 1);
    }
    let centred = |s: &str| left + grid_w / 2 - Canvas::text_width(s, 1) / 2;
    c.text(centred("predicted genre").max(4), 42, "predicted genre", BLACK, 1);
    c.text_vertical(4, top + grid_w / 2 + Canvas::text_width("true genre", 1) / 2, "true genre", BLACK, 1);
    bar.draw(&mut c, left, top + grid_w + 14);
    c.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        ["blues", "classical", "country"].iter().take(n).map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_two_class_confusion_matrix_is_large_enough_to_read_and_has_its_colour_bar() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        confusion_png(&path, &[vec![5, 1], vec![0, 6]], &names(2), "tiny / valid (tracks)").unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        // The title (scale 2) and the colour bar with its unit fit.
        assert!(img.width() as i64 >= 30 + Canvas::text_width("tiny / valid (tracks)", 2));
        assert!(colorbar::find(&img, &blues).is_some(), "no colour bar");
        // The largest count is the darkest cell, and cells are 90 px: count the darkest pixels.
        let dark = blues(1.0);
        let n = img.pixels().filter(|p| p.0 == dark).count();
        assert!(n >= 80 * 80, "the 6-track cell is small: {n} px");
    }

    #[test]
    fn many_classes_keep_a_minimum_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        let classes: Vec<String> = (0..20).map(|i| format!("class {i}")).collect();
        let m: Vec<Vec<usize>> = (0..20).map(|i| (0..20).map(|j| usize::from(i == j)).collect()).collect();
        confusion_png(&path, &m, &classes, "t").unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert!(img.width() >= 20 * 44 && img.height() >= 20 * 44);
    }
}
