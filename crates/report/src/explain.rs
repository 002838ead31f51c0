//! The Grad-CAM picture: the log-mel spectrogram in grey with the model's evidence over it in
//! colour, seconds and Hz on the axes, the per-window genre strip under it and a legend.

use std::path::Path;

use crate::canvas::{Canvas, Color, BLACK, GREY};
use crate::colorbar::{self, ColorBar};
use crate::colors::genre_color;
use crate::spectrogram::{FreqAxis, Plot, Range, Spectrogram};

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

fn grey(t: f32) -> Color {
    let v = (30.0 + 200.0 * t.clamp(0.0, 1.0)) as u8;
    [v, v, v]
}

/// Transparent (cold) to red to yellow (hot).
fn heat(t: f32) -> Color {
    let t = t.clamp(0.0, 1.0);
    [255, (255.0 * (t - 0.35).max(0.0) / 0.65) as u8, 0]
}

/// How much of the heat colour covers the spectrogram at evidence `t`: none shows the
/// spectrogram, the most leaves a third of it visible.
fn opacity(t: f32) -> f32 {
    0.65 * t.clamp(0.0, 1.0)
}

/// The colour evidence `t` gives a mid-grey spectrogram pixel: what the colour bar shows.
fn evidence_color(t: f32) -> Color {
    let (under, over, a) = (grey(0.3), heat(t), opacity(t));
    let mix = |k: usize| (under[k] as f32 * (1.0 - a) + over[k] as f32 * a) as u8;
    [mix(0), mix(1), mix(2)]
}

/// What the evidence colour bar says its values are.
pub const EVIDENCE_UNIT: &str = "evidence, 0-1 (1 = the file's strongest 0.5% of cells)";

/// Draw the picture; returns where its plot area lies (for a cursor over it).
pub fn cam_png(path: &Path, p: &CamPicture) -> std::io::Result<Plot> {
    let strip = 22i64;
    // The plot is at least 200 px wide: the legend wraps to fit it, the evidence bar under it.
    let plot_w = p.frames.clamp(200, 1600) as i64;
    let per_row = (plot_w / 130).max(1) as usize;
    let legend_rows = p.classes.len().div_ceil(per_row) as i64;
    let extra = 6 + strip + 12 + legend_rows * 18 + 8 + colorbar::HEIGHT;
    let axis = FreqAxis::Hz(p.band_hz.clone());
    let picture = Spectrogram {
        data: p.logmel,
        rows: p.rows,
        frames: p.frames,
        seconds_per_frame: p.seconds_per_frame,
        axis: &axis,
        title: &p.title,
        range: Range::BelowMax(80.0),
        unit: "log-mel dB (0 = the file's loudest)",
        frame_px: 1,
    };
    let evidence = ColorBar { colors: &evidence_color, lo: 0.0, hi: 1.0, unit: EVIDENCE_UNIT, whole: false };
    // Wide enough for the evidence bar and its unit under the plot (80 px of frequency labels
    // left of it).
    let (mut c, plot) = picture.draw(grey, extra, 80 + evidence.width() + 20);
    overlay(&mut c, plot, p);
    let mut y = plot.top + plot.height + 50 + colorbar::HEIGHT + 6;
    genre_strip(&mut c, plot, p, y, strip);
    y += strip + 12;
    // Legend: every class in its colour, wrapped to the plot's width.
    for chunk in p.classes.chunks(per_row) {
        for (i, name) in chunk.iter().enumerate() {
            let x = plot.left + 130 * i as i64;
            c.fill_rect(x, y, 12, 12, genre_color(name));
            c.text(x + 16, y, name, BLACK, 1);
        }
        y += 18;
    }
    evidence.draw(&mut c, plot.left, y + 8);
    c.save(path)?;
    Ok(plot)
}

/// Evidence over the spectrogram, blended in proportion to its strength.
fn overlay(c: &mut Canvas, plot: Plot, p: &CamPicture) {
    for px in 0..plot.width {
        let col = ((px as f64 + 0.5) * p.grid_cols as f64 / plot.width as f64) as usize;
        for py in 0..plot.height {
            let row = ((plot.height - 1 - py) as f64 * p.grid_rows as f64 / plot.height as f64) as usize;
            let v = p.grid[row.min(p.grid_rows - 1) * p.grid_cols + col.min(p.grid_cols - 1)];
            if v > 0.05 {
                c.blend(plot.left + px, plot.top + py, heat(v), opacity(v));
            }
        }
    }
}

/// The genre of each window, in the genre's own colour, `height` px tall from `y`.
fn genre_strip(c: &mut Canvas, plot: Plot, p: &CamPicture, y: i64, height: i64) {
    let total = p.frames as f64 * p.seconds_per_frame;
    c.text(plot.left - 75, y + 5, "genre", BLACK, 1);
    for &(start, end, k) in &p.windows {
        let x0 = plot.left + (start / total * plot.width as f64) as i64;
        let x1 = plot.left + (end / total * plot.width as f64).ceil() as i64;
        let color = p.classes.get(k).map_or(GREY, |name| genre_color(name));
        c.fill_rect(x0, y, (x1 - x0).max(1), height, color);
    }
}

/// Feature maps `[n, h, w]` (row 0 = lowest frequency) as a grid of tiles, each scaled to its own
/// range (magma), numbered; the maps `order` names, at most 64.
pub fn maps_png(path: &Path, maps: &[f32], [_, h, w]: [usize; 3], order: &[usize], title: &str) -> std::io::Result<()> {
    use crate::canvas::{magma, WHITE};
    let shown = order.len().min(64);
    let (cols, tw, th, gap) = (8i64, 140i64, 90i64, 22i64);
    let rows = (shown as i64 + cols - 1) / cols;
    let height = 40 + rows * (th + gap) + 10 + colorbar::HEIGHT;
    let mut c = Canvas::new((cols * (tw + 8) + 16) as u32, height as u32, WHITE);
    c.text(8, 8, title, BLACK, 2);
    let bar =
        ColorBar { colors: &magma, lo: 0.0, hi: 1.0, unit: "activation, 0-1 of each map's own range", whole: false };
    bar.draw(&mut c, 8, 40 + rows * (th + gap) + 4);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colorbar::find;

    fn classes() -> Vec<String> {
        ["blues", "metal", "electronic"].iter().map(|s| s.to_string()).collect()
    }

    /// A 4-second picture: a ramp of log-mel dB, evidence rising left to right, three windows.
    fn draw(path: &Path, classes: &[String]) -> Plot {
        let (rows, frames) = (16, 172);
        let logmel: Vec<f32> = (0..rows * frames).map(|i| -80.0 * (i % frames) as f32 / frames as f32).collect();
        let grid: Vec<f32> = (0..2 * 40).map(|i| (i % 40) as f32 / 39.0).collect();
        let picture = CamPicture {
            logmel: &logmel,
            rows,
            frames,
            seconds_per_frame: 512.0 / 22050.0,
            band_hz: (0..rows).map(|r| 100.0 * (r + 1) as f64).collect(),
            grid: &grid,
            grid_rows: 2,
            grid_cols: 40,
            windows: vec![(0.0, 1.5, 0), (1.5, 3.0, 1), (3.0, 4.0, 2)],
            classes,
            title: "clip.wav: why metal (70%)".into(),
        };
        cam_png(path, &picture).unwrap()
    }

    #[test]
    fn the_cam_picture_has_a_colour_bar_for_the_spectrogram_and_one_for_the_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cam.png");
        let plot = draw(&path, &classes());
        let img = image::open(&path).unwrap().to_rgb8();
        let (_, grey_y) = find(&img, &grey).expect("no spectrogram colour bar");
        let (_, evidence_y) = find(&img, &evidence_color).expect("no evidence colour bar");
        let below_plot = (plot.top + plot.height) as u32;
        assert!(grey_y > below_plot && evidence_y > grey_y, "bars under the plot, evidence last");
        // Wide enough for the evidence unit written after its bar.
        assert!(img.width() as i64 >= plot.left + colorbar::BAR_W + Canvas::text_width(EVIDENCE_UNIT, 1));
    }

    #[test]
    fn the_genre_strip_and_legend_use_each_genres_own_colour() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cam.png");
        let names = classes();
        draw(&path, &names);
        let img = image::open(&path).unwrap().to_rgb8();
        for name in &names {
            let want = genre_color(name);
            // Strip block and legend swatch: more pixels than a swatch alone (12 x 12).
            let n = img.pixels().filter(|p| p.0 == want).count();
            assert!(n > 12 * 12 + 100, "{name}: {n} px of {want:?}");
        }
        // The same genre in another model's class list, at another index: the same colour.
        draw(&path, &["metal".to_string(), "blues".into(), "electronic".into()]);
        let img2 = image::open(&path).unwrap().to_rgb8();
        assert!(img2.pixels().any(|p| p.0 == genre_color("metal")));
    }
}
