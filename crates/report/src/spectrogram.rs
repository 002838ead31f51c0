//! Spectrogram pictures with time and frequency axes.

use std::path::Path;

use crate::canvas::{magma, Canvas, Color, BLACK, WHITE};
use crate::colorbar::{self, ColorBar};

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

/// Which values the colours span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// From this many dB under the picture's maximum to the maximum.
    BelowMax(f32),
    /// The picture's own minimum to maximum.
    Data,
    /// Fixed ends (probabilities: 0..1), whatever the picture holds.
    Fixed(f32, f32),
}

/// A `[rows, frames]` array to picture (row 0 at the bottom, as a spectrogram is read), with
/// what its axes and its colours mean.
pub struct Spectrogram<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub frames: usize,
    pub seconds_per_frame: f64,
    pub axis: &'a FreqAxis,
    pub title: &'a str,
    pub range: Range,
    /// What the values are, written beside the colour bar ("dB", "tag probability 0-1").
    pub unit: &'a str,
    /// Pixels a frame gets before the plot's width is held to 200..1600: 1 for STFT frames,
    /// more for a taggram's 3-second windows (its width grows with the file).
    pub frame_px: usize,
}

impl Spectrogram<'_> {
    /// The picture in the magma palette, saved as a PNG.
    pub fn save_png(&self, path: &Path) -> std::io::Result<()> {
        self.draw(magma, 0, 0).0.save(path)
    }

    /// The picture on a canvas with its colour bar under the time axis and `extra_bottom` free
    /// pixels under that, at least `min_width` wide and wide enough for the title (a short
    /// clip's plot is narrower than its title) and the colour bar; and where its plot area is.
    pub fn draw(&self, colors: fn(f32) -> Color, extra_bottom: i64, min_width: i64) -> (Canvas, Plot) {
        let (rows, frames, axis) = (self.rows, self.frames, self.axis);
        // The left margin holds the frequency labels, or the widest row label (a tag name).
        let widest = match axis {
            FreqAxis::Labels(l) => l.iter().map(|s| Canvas::text_width(s, 1)).max().unwrap_or(0),
            FreqAxis::Hz(_) => 0,
        };
        let (left, right, top) = (80i64.max(widest + 14), 20i64, 30i64);
        let bottom = 50 + colorbar::HEIGHT + extra_bottom;
        let plot_w = (frames * self.frame_px.max(1)).clamp(200, 1600) as i64;
        // Labelled rows (tags, chroma) get room for their labels: 14 px each, up to the cap
        // (past it the labels are thinned below).
        let row_px = if matches!(axis, FreqAxis::Labels(_)) { 14 } else { 3 };
        let plot_h = (rows * row_px).clamp(120, 512) as i64;
        let (lo, hi) = self.value_range();
        let bar = ColorBar { colors: &colors, lo: lo as f64, hi: hi as f64, unit: self.unit, whole: false };
        // The title may widen a short clip's canvas to 600 px of text, no more: a longer one (a
        // name from outside, an upload's) is clipped to fit; it never sizes the picture.
        let min_width = min_width.max(left + bar.width() + right);
        let title_room = (plot_w + right).max(min_width - left).max(600);
        let title = &fit_text(self.title, 2, title_room - right);
        let width = (left + plot_w + right).max(left + Canvas::text_width(title, 2) + 2 * right).max(min_width);
        let mut c = Canvas::new(width as u32, (top + plot_h + bottom) as u32, WHITE);
        let plot = Plot { left, top, width: plot_w, height: plot_h };
        let span = (hi - lo).max(1e-12);
        for px in 0..plot_w {
            let t = ((px as f64 + 0.5) * frames as f64 / plot_w as f64) as usize;
            for py in 0..plot_h {
                let r = ((plot_h - 1 - py) as f64 * rows as f64 / plot_h as f64) as usize;
                let v = self.data[r.min(rows - 1) * frames + t.min(frames - 1)];
                c.put(left + px, top + py, colors((v - lo) / span));
            }
        }
        c.text(left, 8, title, BLACK, 2);
        self.time_axis(&mut c, plot);
        self.freq_axis(&mut c, plot);
        bar.draw(&mut c, left, top + plot_h + 50);
        (c, plot)
    }

    /// The values the colours span: finite values only (a -inf dB of silence must not
    /// stretch the scale).
    fn value_range(&self) -> (f32, f32) {
        let finite = self.data.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 0.0) };
        match self.range {
            Range::BelowMax(db) => (hi - db, hi),
            Range::Data => (lo, hi),
            Range::Fixed(a, b) => (a, b),
        }
    }

    /// ~8 ticks at round seconds under the plot, and its title.
    fn time_axis(&self, c: &mut Canvas, p: Plot) {
        let total = self.frames as f64 * self.seconds_per_frame;
        let step = nice_step(total / 8.0);
        let y = p.top + p.height;
        let mut s = 0.0;
        while s <= total + 1e-9 {
            let x = p.left + (s / total * p.width as f64) as i64;
            c.line((x, y), (x, y + 5), BLACK, 1);
            let label = format_secs(s, step);
            c.text(x - Canvas::text_width(&label, 1) / 2, y + 9, &label, BLACK, 1);
            s += step;
        }
        c.text(p.left + p.width / 2 - 40, y + 30, "time (s)", BLACK, 1);
    }

    /// Frequencies (or row labels) left of the plot.
    fn freq_axis(&self, c: &mut Canvas, p: Plot) {
        let rows = self.rows;
        let ticks: Vec<(usize, String)> = match self.axis {
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
            let y = p.top + p.height - ((r as f64 + 0.5) * p.height as f64 / rows as f64) as i64;
            c.line((p.left - 5, y), (p.left, y), BLACK, 1);
            c.text(p.left - 8 - Canvas::text_width(&label, 1), y - 4, &label, BLACK, 1);
        }
        if matches!(self.axis, FreqAxis::Hz(_)) {
            c.text_vertical(4, p.top + p.height / 2 + 56, "frequency (Hz)", BLACK, 1);
        }
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

/// A tick's value with as many decimals as its step needs ("-40", "0.5", "0.25").
pub fn tick_label(v: f64, step: f64) -> String {
    // -0.0 would print as "-0".
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    if step >= 1.0 {
        format!("{v:.0}")
    } else if step >= 0.1 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colorbar::find;

    fn picture<'a>(data: &'a [f32], rows: usize, axis: &'a FreqAxis, range: Range, frame_px: usize) -> Spectrogram<'a> {
        Spectrogram {
            data,
            rows,
            frames: data.len() / rows,
            seconds_per_frame: 3.0,
            axis,
            title: "t",
            range,
            unit: "tag probability 0-1",
            frame_px,
        }
    }

    #[test]
    fn every_spectrogram_picture_has_its_colour_bar_under_the_plot() {
        let data: Vec<f32> = (0..20 * 10).map(|i| i as f32 / 200.0).collect();
        let axis = FreqAxis::Labels((0..20).map(|i| format!("tag {i}")).collect());
        let (c, plot) = picture(&data, 20, &axis, Range::Fixed(0.0, 1.0), 24).draw(magma, 0, 0);
        let (x, y) = find(&c.img, &magma).expect("no colour bar");
        assert_eq!((x as i64, y as i64), (plot.left, plot.top + plot.height + 50));
        assert!(
            c.width() as i64
                >= plot.left
                    + ColorBar { colors: &magma, lo: 0.0, hi: 1.0, unit: "tag probability 0-1", whole: false }.width()
        );
    }

    #[test]
    fn a_taggram_grows_with_the_file_within_bounds() {
        let axis = FreqAxis::Labels((0..20).map(|i| format!("tag {i}")).collect());
        let width = |windows: usize| {
            let data = vec![0.5f32; 20 * windows];
            picture(&data, 20, &axis, Range::Fixed(0.0, 1.0), 24).draw(magma, 0, 0).1.width
        };
        assert_eq!(width(1), 200, "one window still makes a picture");
        assert_eq!(width(10), 240);
        assert_eq!(width(60), 1440, "a 3-minute file: 60 windows of 24 px");
        assert_eq!(width(1000), 1600);
        // Every tag row is 14 px: readable 11 px labels.
        let data = vec![0.5f32; 20 * 10];
        assert_eq!(picture(&data, 20, &axis, Range::Fixed(0.0, 1.0), 24).draw(magma, 0, 0).1.height, 280);
    }

    #[test]
    fn ranges_span_what_they_say() {
        let data = [-70.0f32, -10.0, f32::NEG_INFINITY, -40.0];
        let axis = FreqAxis::Hz(vec![100.0, 200.0]);
        assert_eq!(picture(&data, 2, &axis, Range::BelowMax(80.0), 1).value_range(), (-90.0, -10.0));
        assert_eq!(picture(&data, 2, &axis, Range::Data, 1).value_range(), (-70.0, -10.0));
        assert_eq!(picture(&data, 2, &axis, Range::Fixed(0.0, 1.0), 1).value_range(), (0.0, 1.0));
    }
}
