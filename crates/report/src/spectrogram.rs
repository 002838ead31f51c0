//! Spectrogram pictures with time and frequency axes.

use std::path::Path;

use crate::canvas::{magma, Canvas, Color, BLACK, WHITE};

/// What the rows of the picture are, for the vertical axis.
#[derive(Debug, Clone)]
pub enum FreqAxis {
    /// Row `i` is centred on `hz[i]` (e.g. mel band centres, FFT bin frequencies).
    Hz(Vec<f64>),
    /// Rows are numbered coefficients/classes (MFCC, chroma) with these labels.
    Labels(Vec<String>),
}

/// Where the plot area of a picture lies (pixels), for overlays and for pages that move a
/// cursor over it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Plot {
    pub left: i64,
    pub top: i64,
    pub width: i64,
    pub height: i64,
}

/// A `[rows, frames]` array to picture (row 0 at the bottom, as a spectrogram is read), with
/// what its axes mean. Values are mapped linearly from `[max - range_db, max]` (or min..max
/// when `range_db` is None).
pub struct Spectrogram<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub frames: usize,
    pub seconds_per_frame: f64,
    pub axis: &'a FreqAxis,
    pub title: &'a str,
    pub range_db: Option<f32>,
}

impl Spectrogram<'_> {
    /// The picture in the magma palette, saved as a PNG.
    pub fn save_png(&self, path: &Path) -> std::io::Result<()> {
        self.draw(magma, 0, 0).0.save(path)
    }

    /// The picture on a canvas with `extra_bottom` free pixels under the time axis, at least
    /// `min_width` wide and wide enough for the title (a short clip's plot is narrower than
    /// its title), and where its plot area is.
    pub fn draw(&self, colors: fn(f32) -> Color, extra_bottom: i64, min_width: i64) -> (Canvas, Plot) {
        let Spectrogram { data, rows, frames, seconds_per_frame, axis, title, range_db } = *self;
        // The left margin holds the frequency labels, or the widest row label (a tag name).
        let widest = match axis {
            FreqAxis::Labels(l) => l.iter().map(|s| Canvas::text_width(s, 1)).max().unwrap_or(0),
            FreqAxis::Hz(_) => 0,
        };
        let (left, right, top, bottom) = (80i64.max(widest + 14), 20i64, 30i64, 50i64 + extra_bottom);
        let plot_w = frames.clamp(200, 1600) as i64;
        // Labelled rows (tags, chroma) get room for their labels: 14 px each, up to the cap
        // (past it the labels are thinned below).
        let row_px = if matches!(axis, FreqAxis::Labels(_)) { 14 } else { 3 };
        let plot_h = (rows * row_px).clamp(120, 512) as i64;
        // The title may widen a short clip's canvas to 600 px of text, no more: a longer one (a
        // name from outside, an upload's) is clipped to fit; it never sizes the picture.
        let title_room = (plot_w + right).max(min_width - left).max(600);
        let title = &fit_text(title, 2, title_room - right);
        let width = (left + plot_w + right).max(left + Canvas::text_width(title, 2) + 2 * right).max(min_width);
        let mut c = Canvas::new(width as u32, (top + plot_h + bottom) as u32, WHITE);
        let finite = data.iter().copied().filter(|v| v.is_finite());
        let hi = finite.clone().fold(f32::NEG_INFINITY, f32::max);
        let lo = match range_db {
            Some(r) => hi - r,
            None => finite.fold(f32::INFINITY, f32::min),
        };
        let span = (hi - lo).max(1e-12);
        for px in 0..plot_w {
            let t = ((px as f64 + 0.5) * frames as f64 / plot_w as f64) as usize;
            for py in 0..plot_h {
                let r = ((plot_h - 1 - py) as f64 * rows as f64 / plot_h as f64) as usize;
                let v = data[r.min(rows - 1) * frames + t.min(frames - 1)];
                c.put(left + px, top + py, colors((v - lo) / span));
            }
        }
        c.text(left, 8, title, BLACK, 2);
        // Time axis: ~8 ticks at round seconds.
        let total = frames as f64 * seconds_per_frame;
        let step = nice_step(total / 8.0);
        let mut s = 0.0;
        while s <= total + 1e-9 {
            let x = left + (s / total * plot_w as f64) as i64;
            c.line((x, top + plot_h), (x, top + plot_h + 5), BLACK, 1);
            let label = format_secs(s, step);
            c.text(x - Canvas::text_width(&label, 1) / 2, top + plot_h + 9, &label, BLACK, 1);
            s += step;
        }
        c.text(left + plot_w / 2 - 40, top + plot_h + 30, "time (s)", BLACK, 1);
        // Frequency axis.
        let ticks: Vec<(usize, String)> = match axis {
            FreqAxis::Hz(hz) => {
                let n = 6.min(rows);
                (0..n).map(|k| k * (rows - 1) / (n - 1).max(1)).map(|r| (r, format_hz(hz[r]))).collect()
            }
            FreqAxis::Labels(l) => {
                let every = (l.len() / 12).max(1);
                l.iter().enumerate().filter(|(i, _)| i % every == 0).map(|(i, s)| (i, s.clone())).collect()
            }
        };
        for (r, label) in ticks {
            let y = top + plot_h - ((r as f64 + 0.5) * plot_h as f64 / rows as f64) as i64;
            c.line((left - 5, y), (left, y), BLACK, 1);
            c.text(left - 8 - Canvas::text_width(&label, 1), y - 4, &label, BLACK, 1);
        }
        let ytitle = if matches!(axis, FreqAxis::Hz(_)) { "frequency (Hz)" } else { "" };
        c.text_vertical(4, top + plot_h / 2 + 56, ytitle, BLACK, 1);
        (c, Plot { left, top, width: plot_w, height: plot_h })
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|&s| s >= raw).unwrap_or(10.0 * p)
}

fn format_secs(s: f64, step: f64) -> String {
    if step >= 1.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

fn format_hz(hz: f64) -> String {
    if hz >= 1000.0 {
        format!("{:.1}k", hz / 1000.0)
    } else {
        format!("{hz:.0}")
    }
}

/// `text` cut (with "...") to at most `max_px` wide at `scale`.
fn fit_text(text: &str, scale: i64, max_px: i64) -> String {
    if Canvas::text_width(text, scale) <= max_px {
        return text.to_string();
    }
    let mut kept: String = String::new();
    for ch in text.chars() {
        let next = format!("{kept}{ch}...");
        if Canvas::text_width(&next, scale) > max_px {
            break;
        }
        kept.push(ch);
    }
    kept + "..."
}
