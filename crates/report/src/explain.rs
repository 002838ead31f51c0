//! The Grad-CAM picture: the log-mel spectrogram in grey with the model's evidence over it in
//! colour, seconds and Hz on the axes, the per-window genre strip under it and a legend.

use std::path::Path;

use crate::canvas::{Color, BLACK, GREY};
use crate::spectrogram::{FreqAxis, Plot, Spectrogram};

/// What to draw.
pub struct CamPicture<'a> {
    /// Log-mel dB `[rows, frames]`, row 0 = lowest band; its frame duration; the band centres.
    pub logmel: &'a [f32],
    pub rows: usize,
    pub frames: usize,
    pub seconds_per_frame: f64,
    pub band_hz: Vec<f64>,
    /// Importance 0..1, `[grid_rows, grid_cols]` over the same time span (row 0 lowest band).
    pub grid: &'a [f32],
    pub grid_rows: usize,
    pub grid_cols: usize,
    /// Windows: (start s, end s, class index).
    pub windows: Vec<(f64, f64, usize)>,
    pub classes: &'a [String],
    pub title: String,
}

/// Ten distinguishable colours for genres (Tableau 10).
pub const PALETTE: [Color; 10] = [
    [78, 121, 167],
    [242, 142, 43],
    [225, 87, 89],
    [118, 183, 178],
    [89, 161, 79],
    [237, 201, 72],
    [176, 122, 161],
    [255, 157, 167],
    [156, 117, 95],
    [186, 176, 172],
];

fn grey(t: f32) -> Color {
    let v = (30.0 + 200.0 * t.clamp(0.0, 1.0)) as u8;
    [v, v, v]
}

/// Transparent (cold) to red to yellow (hot).
fn heat(t: f32) -> Color {
    let t = t.clamp(0.0, 1.0);
    [255, (255.0 * (t - 0.35).max(0.0) / 0.65) as u8, 0]
}

/// Draw the picture; returns where its plot area lies (for a cursor over it).
pub fn cam_png(path: &Path, p: &CamPicture) -> std::io::Result<Plot> {
    let strip = 22i64;
    // The plot is at least 200 px wide: the legend wraps to fit it, the evidence scale under it.
    let plot_w = p.frames.clamp(200, 1600) as i64;
    let per_row = (plot_w / 130).max(1) as usize;
    let legend_rows = p.classes.len().div_ceil(per_row) as i64;
    let extra = strip + 20 + legend_rows * 18 + 40;
    let axis = FreqAxis::Hz(p.band_hz.clone());
    let picture = Spectrogram {
        data: p.logmel,
        rows: p.rows,
        frames: p.frames,
        seconds_per_frame: p.seconds_per_frame,
        axis: &axis,
        title: &p.title,
        range_db: Some(80.0),
    };
    // Wide enough for the evidence scale and its words under the plot.
    let scale_width = 80 + 70 + 156 + crate::canvas::Canvas::text_width("none to most", 1) + 10;
    let (mut c, plot) = picture.draw(grey, extra, scale_width);
    // Evidence: blended in proportion to its strength.
    for px in 0..plot.width {
        let col = ((px as f64 + 0.5) * p.grid_cols as f64 / plot.width as f64) as usize;
        for py in 0..plot.height {
            let row = ((plot.height - 1 - py) as f64 * p.grid_rows as f64 / plot.height as f64) as usize;
            let v = p.grid[row.min(p.grid_rows - 1) * p.grid_cols + col.min(p.grid_cols - 1)];
            if v > 0.05 {
                c.blend(plot.left + px, plot.top + py, heat(v), 0.65 * v);
            }
        }
    }
    // The per-window genre strip, under the time axis labels.
    let total = p.frames as f64 * p.seconds_per_frame;
    let y0 = plot.top + plot.height + 50;
    c.text(plot.left - 75, y0 + 5, "genre", BLACK, 1);
    for &(start, end, k) in &p.windows {
        let x0 = plot.left + (start / total * plot.width as f64) as i64;
        let x1 = plot.left + (end / total * plot.width as f64).ceil() as i64;
        c.fill_rect(x0, y0, (x1 - x0).max(1), strip, PALETTE[k % PALETTE.len()]);
    }
    // Legend: genre colours, then the evidence scale.
    let mut y = y0 + strip + 12;
    for chunk in p.classes.iter().enumerate().collect::<Vec<_>>().chunks(per_row) {
        let mut x = plot.left;
        for (k, name) in chunk {
            c.fill_rect(x, y, 12, 12, PALETTE[k % PALETTE.len()]);
            c.text(x + 16, y, name, BLACK, 1);
            x += 130;
        }
        y += 18;
    }
    let (sx, sy) = (plot.left + 70, y + 4);
    c.text(plot.left, sy, "evidence", BLACK, 1);
    for i in 0..150 {
        let t = i as f32 / 149.0;
        let [r, g, b] = grey(0.3);
        let h = heat(t);
        let a = 0.65 * t;
        let mix = |x: u8, y: u8| (x as f32 * (1.0 - a) + y as f32 * a) as u8;
        c.fill_rect(sx + i, sy, 1, 12, [mix(r, h[0]), mix(g, h[1]), mix(b, h[2])]);
    }
    c.line((sx, sy + 13), (sx + 150, sy + 13), GREY, 1);
    c.text(sx + 156, sy, "none to most", BLACK, 1);
    c.save(path)?;
    Ok(plot)
}

/// Feature maps `[n, h, w]` (row 0 = lowest frequency) as a grid of tiles, each scaled to its own
/// range (magma), numbered; the maps `order` names, at most 64.
pub fn maps_png(path: &Path, maps: &[f32], [_, h, w]: [usize; 3], order: &[usize], title: &str) -> std::io::Result<()> {
    use crate::canvas::{magma, WHITE};
    let shown = order.len().min(64);
    let (cols, tw, th, gap) = (8i64, 140i64, 90i64, 22i64);
    let rows = (shown as i64 + cols - 1) / cols;
    let mut c = crate::canvas::Canvas::new((cols * (tw + 8) + 16) as u32, (40 + rows * (th + gap)) as u32, WHITE);
    c.text(8, 8, title, BLACK, 2);
    for (slot, &k) in order.iter().take(shown).enumerate() {
        let m = &maps[k * h * w..(k + 1) * h * w];
        let (lo, hi) = m.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let span = (hi - lo).max(1e-12);
        let (x0, y0) = (8 + (slot as i64 % cols) * (tw + 8), 40 + (slot as i64 / cols) * (th + gap));
        for px in 0..tw {
            let col = ((px as f64 + 0.5) * w as f64 / tw as f64) as usize;
            for py in 0..th {
                let row = ((th - 1 - py) as f64 * h as f64 / th as f64) as usize;
                c.put(x0 + px, y0 + py, magma((m[row.min(h - 1) * w + col.min(w - 1)] - lo) / span));
            }
        }
        c.text(x0, y0 + th + 4, &format!("#{k}"), BLACK, 1);
    }
    c.save(path)
}
