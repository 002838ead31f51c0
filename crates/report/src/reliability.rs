//! Reliability diagrams: how often the top answer is right against how sure the model said it
//! was. A calibrated model's points lie on the diagonal.

use std::path::Path;

use crate::canvas::{Canvas, BLACK, GREY, WHITE};
use crate::chart::PALETTE;

/// One bin of answers: their mean top probability, the share of them that was right, how many.
#[derive(Debug, Clone, Copy)]
pub struct BinPoint {
    pub confidence: f32,
    pub accuracy: f32,
    pub count: usize,
}

/// A named curve (e.g. "before", "after") with its expected calibration error.
pub struct Curve<'a> {
    pub name: &'a str,
    pub ece: f32,
    pub bins: Vec<BinPoint>,
}

/// The diagram: confidence (x) against accuracy (y), both 0..1, the diagonal of perfect
/// calibration, one line per curve (points sized by how many answers the bin holds, empty bins
/// skipped), and under it the count of answers per bin of the first curve.
pub fn reliability_png(path: &Path, title: &str, curves: &[Curve]) -> std::io::Result<()> {
    let (left, top, side, hist) = (70i64, 44i64, 360i64, 60i64);
    let label = |c: &Curve| format!("{} (ECE {:.3})", c.name, c.ece);
    let legend_w = curves.iter().map(|c| Canvas::text_width(&label(c), 1)).max().unwrap_or(0).max(130) + 40;
    let w = (left + side + 24 + legend_w).max(Canvas::text_width(title, 2) + 24);
    let h = top + side + 40 + hist + 40;
    let mut c = Canvas::new(w as u32, h as u32, WHITE);
    c.text(12, 12, title, BLACK, 2);
    let x_of = |v: f32| left + (v.clamp(0.0, 1.0) * side as f32) as i64;
    let y_of = |v: f32| top + side - (v.clamp(0.0, 1.0) * side as f32) as i64;
    for k in 0..=10 {
        let v = k as f32 / 10.0;
        c.line((x_of(v), top), (x_of(v), top + side), [235, 235, 235], 1);
        c.line((left, y_of(v)), (left + side, y_of(v)), [235, 235, 235], 1);
        if k % 2 == 0 {
            let label = format!("{v:.1}");
            c.text(x_of(v) - Canvas::text_width(&label, 1) / 2, top + side + 6, &label, BLACK, 1);
            c.text(left - 8 - Canvas::text_width(&label, 1), y_of(v) - 5, &label, BLACK, 1);
        }
    }
    c.line((left, top + side), (left + side, top), GREY, 1);
    c.line((left, top), (left, top + side), GREY, 1);
    c.line((left, top + side), (left + side, top + side), GREY, 1);
    let xlabel = "top probability (how sure)";
    c.text(left + side / 2 - Canvas::text_width(xlabel, 1) / 2, top + side + 22, xlabel, BLACK, 1);
    c.text_vertical(14, top + side / 2 + 60, "share right (accuracy)", BLACK, 1);
    let most = curves.iter().flat_map(|k| k.bins.iter().map(|b| b.count)).max().unwrap_or(1).max(1);
    for (k, curve) in curves.iter().enumerate() {
        let col = PALETTE[k % PALETTE.len()];
        let pts: Vec<(i64, i64, usize)> = curve
            .bins
            .iter()
            .filter(|b| b.count > 0)
            .map(|b| (x_of(b.confidence), y_of(b.accuracy), b.count))
            .collect();
        for p in pts.windows(2) {
            c.line((p[0].0, p[0].1), (p[1].0, p[1].1), col, 2);
        }
        for &(x, y, n) in &pts {
            let r = 2 + (6.0 * (n as f64 / most as f64).sqrt()) as i64;
            c.fill_rect(x - r, y - r, 2 * r + 1, 2 * r + 1, col);
        }
        let ly = top + 10 + 20 * k as i64;
        c.fill_rect(left + side + 24, ly, 14, 10, col);
        c.text(left + side + 44, ly, &label(curve), BLACK, 1);
    }
    c.line((left + side + 24, top + 60), (left + side + 38, top + 50), GREY, 1);
    c.text(left + side + 44, top + 50, "perfectly calibrated", BLACK, 1);
    // How many answers each bin holds (the first curve's): a point over 3 answers means little.
    let base = top + side + 40 + hist;
    if let Some(first) = curves.first() {
        let bw = side / first.bins.len().max(1) as i64;
        for (i, b) in first.bins.iter().enumerate() {
            let bh = (b.count as f64 / most as f64 * (hist - 14) as f64) as i64;
            let x = left + i as i64 * bw;
            c.fill_rect(x + 2, base - bh, bw - 4, bh, [190, 190, 190]);
            if b.count > 0 {
                let label = b.count.to_string();
                c.text(x + bw / 2 - Canvas::text_width(&label, 1) / 2, base - bh - 12, &label, BLACK, 1);
            }
        }
        c.text(left, base + 8, &format!("answers per bin ({})", first.name), BLACK, 1);
    }
    c.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_diagram_with_its_points() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.png");
        let bins = |shift: f32| {
            (0..10)
                .map(|k| BinPoint {
                    confidence: k as f32 / 10.0 + 0.05,
                    accuracy: (k as f32 / 10.0 + shift).min(1.0),
                    count: k,
                })
                .collect()
        };
        let curves =
            [Curve { name: "before", ece: 0.2, bins: bins(0.2) }, Curve { name: "after", ece: 0.01, bins: bins(0.05) }];
        reliability_png(&p, "valid: 45 tracks", &curves).unwrap();
        let img = image::open(&p).unwrap().to_rgb8();
        // The first curve's colour appears (its points and lines were drawn).
        let first = PALETTE[0];
        assert!(img.pixels().any(|px| px.0 == first), "no point of the first curve");
        assert!(img.width() >= 600 && img.height() >= 500);
    }
}
