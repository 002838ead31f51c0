//! Colour bars: the key that says what a heat map's colours stand for, in which unit. Laid out
//! horizontally under a plot so the unit is written the way it is read (a vertical bar would
//! need its words turned on their side).

use crate::canvas::{Canvas, Color, BLACK, GREY};
use crate::spectrogram::{nice_step, tick_label};

/// Size of the gradient strip.
pub const BAR_W: i64 = 200;
pub const BAR_H: i64 = 12;
/// Height the bar takes with its tick labels under it.
pub const HEIGHT: i64 = 34;

/// A colour bar: the colours of 0..1, the values `lo..hi` they stand for, and their unit.
pub struct ColorBar<'a> {
    pub colors: &'a dyn Fn(f32) -> Color,
    pub lo: f64,
    pub hi: f64,
    pub unit: &'a str,
    /// The values are counts: ticks on whole numbers only (no "0.5 tracks").
    pub whole: bool,
}

impl ColorBar<'_> {
    /// Width of the strip and the unit written after it.
    pub fn width(&self) -> i64 {
        BAR_W + 10 + Canvas::text_width(self.unit, 1)
    }

    /// Draw it with the strip's top-left corner at (x, y).
    pub fn draw(&self, c: &mut Canvas, x: i64, y: i64) {
        for i in 0..BAR_W {
            c.fill_rect(x + i, y, 1, BAR_H, (self.colors)(i as f32 / (BAR_W - 1) as f32));
        }
        // A frame outside the strip: a bar starting in white still shows where it starts.
        c.line((x - 1, y - 1), (x + BAR_W, y - 1), GREY, 1);
        c.line((x - 1, y + BAR_H), (x + BAR_W, y + BAR_H), GREY, 1);
        c.line((x - 1, y - 1), (x - 1, y + BAR_H), GREY, 1);
        c.line((x + BAR_W, y - 1), (x + BAR_W, y + BAR_H), GREY, 1);
        c.text(x + BAR_W + 10, y, self.unit, BLACK, 1);
        for (tx, label) in self.ticks() {
            let tx = x + tx;
            c.line((tx, y + BAR_H), (tx, y + BAR_H + 3), BLACK, 1);
            c.text(tx - Canvas::text_width(&label, 1) / 2, y + BAR_H + 7, &label, BLACK, 1);
        }
    }

    /// Round values along the strip: (x from its left edge, label).
    fn ticks(&self) -> Vec<(i64, String)> {
        let span = self.hi - self.lo;
        if !span.is_finite() || span <= 0.0 {
            return vec![(0, tick_label(self.lo, 1.0))];
        }
        // A hair under a quarter: -80..1e-7 dB (a maximum that is not exactly 0) still steps by 20.
        let step = nice_step(span / 4.0 * (1.0 - 1e-4));
        let step = if self.whole { step.max(1.0) } else { step };
        // Ends within rounding noise of a round value get its tick.
        let first = (self.lo / step - 1e-4).ceil() as i64;
        let last = (self.hi / step + 1e-4).floor() as i64;
        (first..=last)
            .map(|k| {
                let v = k as f64 * step;
                (((v - self.lo) / span * (BAR_W - 1) as f64).round() as i64, tick_label(v, step))
            })
            .collect()
    }
}

/// Where a bar drawn with `colors` lies in a picture (the strip's top-left corner), if it does:
/// a run of `BAR_W` pixels, each exactly its colour at its place.
#[cfg(test)]
pub(crate) fn find(img: &image::RgbImage, colors: &dyn Fn(f32) -> Color) -> Option<(u32, u32)> {
    let want: Vec<Color> = (0..BAR_W).map(|i| colors(i as f32 / (BAR_W - 1) as f32)).collect();
    let (w, h) = img.dimensions();
    (0..h)
        .flat_map(|y| (0..w.saturating_sub(BAR_W as u32)).map(move |x| (x, y)))
        .find(|&(x, y)| want.iter().enumerate().all(|(i, c)| img.get_pixel(x + i as u32, y).0 == *c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::{magma, WHITE};

    #[test]
    fn ticks_fall_on_round_values_inside_the_range() {
        let bar = ColorBar { colors: &magma, lo: -80.0, hi: 0.0, unit: "dB", whole: false };
        let labels: Vec<String> = bar.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["-80", "-60", "-40", "-20", "0"]);
        let bar = ColorBar { colors: &magma, lo: -80.0 + 1e-7, hi: 1e-7, unit: "dB", whole: false };
        assert_eq!(bar.ticks().len(), 5, "rounding noise does not change the step");
        let bar = ColorBar { colors: &magma, lo: 0.0, hi: 1.0, unit: "p", whole: false };
        let ticks = bar.ticks();
        assert_eq!(ticks.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), ["0.0", "0.5", "1.0"]);
        assert_eq!((ticks[0].0, ticks[2].0), (0, BAR_W - 1));
        let counts = ColorBar { colors: &magma, lo: 0.0, hi: 1.0, unit: "tracks", whole: true };
        assert_eq!(counts.ticks().iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), ["0", "1"]);
        // A flat picture still gets its one value named.
        assert_eq!(ColorBar { colors: &magma, lo: 3.0, hi: 3.0, unit: "", whole: false }.ticks().len(), 1);
    }

    #[test]
    fn a_drawn_bar_is_found_where_it_was_drawn() {
        let mut c = Canvas::new(400, 80, WHITE);
        let bar = ColorBar { colors: &magma, lo: 0.0, hi: 1.0, unit: "tag probability 0-1", whole: false };
        bar.draw(&mut c, 30, 20);
        assert_eq!(find(&c.img, &magma), Some((30, 20)));
        assert_eq!(bar.width(), BAR_W + 10 + Canvas::text_width("tag probability 0-1", 1), "the unit after the strip");
    }
}
