//! A small raster canvas for report pictures: filled rectangles, lines, 8x8 bitmap text and
//! colour maps. Plotting crates need a system font stack (fontconfig/freetype) to draw any text;
//! an embedded public-domain bitmap font keeps pictures self-contained and builds dependency-free.

use std::path::Path;

use image::{Rgb, RgbImage};

pub type Color = [u8; 3];

pub const WHITE: Color = [255, 255, 255];
pub const BLACK: Color = [0, 0, 0];
pub const GREY: Color = [160, 160, 160];

pub struct Canvas {
    pub img: RgbImage,
}

impl Canvas {
    pub fn new(width: u32, height: u32, background: Color) -> Self {
        Self { img: RgbImage::from_pixel(width, height, Rgb(background)) }
    }

    pub fn width(&self) -> u32 {
        self.img.width()
    }

    pub fn height(&self) -> u32 {
        self.img.height()
    }

    #[inline]
    pub fn put(&mut self, x: i64, y: i64, c: Color) {
        if x >= 0 && y >= 0 && (x as u32) < self.img.width() && (y as u32) < self.img.height() {
            self.img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    }

    pub fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: Color) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.put(xx, yy, c);
            }
        }
    }

    /// A straight line (Bresenham), `thickness` pixels wide.
    pub fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: Color, thickness: i64) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.fill_rect(x - thickness / 2, y - thickness / 2, thickness.max(1), thickness.max(1), c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Text with its top-left corner at (x, y); each glyph is 8x8 pixels times `scale`.
    pub fn text(&mut self, x: i64, y: i64, s: &str, c: Color, scale: i64) {
        for (px, py) in glyph_pixels(s) {
            self.fill_rect(x + px * scale, y + py * scale, scale, scale, c);
        }
    }

    /// Width in pixels of `s` drawn at `scale`.
    pub fn text_width(s: &str, scale: i64) -> i64 {
        s.chars().count() as i64 * 8 * scale
    }

    /// Text rotated 90 degrees counter-clockwise (for vertical axis titles), bottom at `y`.
    pub fn text_vertical(&mut self, x: i64, y: i64, s: &str, c: Color, scale: i64) {
        for (px, py) in glyph_pixels(s) {
            self.fill_rect(x + py * scale, y - px * scale, scale, scale, c);
        }
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        self.img.save(path).map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))
    }
}

/// Lit pixels (x, y) of a line of 8x8 glyphs, in unscaled units.
fn glyph_pixels(s: &str) -> impl Iterator<Item = (i64, i64)> + '_ {
    s.chars().enumerate().flat_map(|(i, ch)| {
        let glyph = font8x8::legacy::BASIC_LEGACY.get(ch as usize).copied().unwrap_or([0; 8]);
        (0..8i64).flat_map(move |row| {
            (0..8i64).filter(move |col| glyph[row as usize] >> col & 1 == 1).map(move |col| (i as i64 * 8 + col, row))
        })
    })
}

/// Perceptually ordered colour map (an approximation of matplotlib's "magma"), `t` in [0, 1].
pub fn magma(t: f32) -> Color {
    const STOPS: [[f32; 3]; 6] = [
        [0.0, 0.0, 4.0],
        [59.0, 15.0, 112.0],
        [140.0, 41.0, 129.0],
        [222.0, 73.0, 104.0],
        [254.0, 159.0, 109.0],
        [252.0, 253.0, 191.0],
    ];
    interpolate(&STOPS, t)
}

/// White-to-blue map for matrices (confusion matrices), `t` in [0, 1].
pub fn blues(t: f32) -> Color {
    const STOPS: [[f32; 3]; 3] = [[247.0, 251.0, 255.0], [107.0, 174.0, 214.0], [8.0, 48.0, 107.0]];
    interpolate(&STOPS, t)
}

fn interpolate(stops: &[[f32; 3]], t: f32) -> Color {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let pos = t * (stops.len() - 1) as f32;
    let i = (pos.floor() as usize).min(stops.len() - 2);
    let f = pos - i as f32;
    let mix = |k: usize| (stops[i][k] * (1.0 - f) + stops[i + 1][k] * f).round() as u8;
    [mix(0), mix(1), mix(2)]
}
