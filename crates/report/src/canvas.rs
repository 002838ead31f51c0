//! A small raster canvas for report pictures: filled rectangles, lines, anti-aliased text and
//! colour maps. Text is drawn with ab_glyph from an embedded DejaVu Sans (licence in
//! `assets/DejaVuSans-LICENSE.txt`): plotting crates reach for a system font stack
//! (fontconfig/freetype) that a self-contained binary cannot count on.

use std::path::Path;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
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

    /// Text with its top-left corner at (x, y), about 8 pixels tall (cap height) times `scale`.
    pub fn text(&mut self, x: i64, y: i64, s: &str, c: Color, scale: i64) {
        for (px, py, cov) in glyph_coverage(s, scale) {
            self.blend(x + px, y + py, c, cov);
        }
    }

    /// Width in pixels of `s` drawn at `scale`.
    pub fn text_width(s: &str, scale: i64) -> i64 {
        layout(s, scale).1.ceil() as i64
    }

    /// Text rotated 90 degrees counter-clockwise (for vertical axis titles), bottom at `y`.
    pub fn text_vertical(&mut self, x: i64, y: i64, s: &str, c: Color, scale: i64) {
        for (px, py, cov) in glyph_coverage(s, scale) {
            self.blend(x + py, y - px, c, cov);
        }
    }

    /// Mix `c` into the pixel by `coverage` (0..1): anti-aliased edges.
    pub fn blend(&mut self, x: i64, y: i64, c: Color, coverage: f32) {
        if x < 0 || y < 0 || x as u32 >= self.img.width() || y as u32 >= self.img.height() || coverage <= 0.0 {
            return;
        }
        let p = self.img.get_pixel_mut(x as u32, y as u32);
        let a = coverage.min(1.0);
        for k in 0..3 {
            p.0[k] = (p.0[k] as f32 * (1.0 - a) + c[k] as f32 * a).round() as u8;
        }
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        self.img.save(path).map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))
    }
}

static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn font() -> FontRef<'static> {
    FontRef::try_from_slice(FONT_BYTES).expect("the embedded font parses")
}

/// Pixel size for a `scale` (11 px: cap height about 8 px, as the bitmap font it replaced).
fn px_size(scale: i64) -> f32 {
    11.0 * scale.max(1) as f32
}

/// The positioned glyphs of a line and its advance width.
fn layout(s: &str, scale: i64) -> (Vec<ab_glyph::Glyph>, f32) {
    let f = font();
    let size = PxScale::from(px_size(scale));
    let sf = f.as_scaled(size);
    let (mut x, mut prev) = (0f32, None);
    let mut glyphs = Vec::new();
    for ch in s.chars() {
        let id = sf.glyph_id(ch);
        if let Some(p) = prev {
            x += sf.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(size, point(x, sf.ascent())));
        x += sf.h_advance(id);
        prev = Some(id);
    }
    (glyphs, x)
}

/// Covered pixels (x, y, coverage) of a line of text, top-left at (0, 0).
fn glyph_coverage(s: &str, scale: i64) -> Vec<(i64, i64, f32)> {
    let f = font();
    let mut out = Vec::new();
    for g in layout(s, scale).0 {
        if let Some(o) = f.outline_glyph(g) {
            let b = o.px_bounds();
            o.draw(|gx, gy, cov| out.push((b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64, cov)));
        }
    }
    out
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
