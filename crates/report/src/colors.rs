//! One colour per genre, everywhere (pictures, the web page): fixed by the genre's name, not by
//! its place in a model's class list, so "metal" looks the same in every model and every view.

use crate::canvas::Color;

/// Hand-picked, mutually distinct colours for the ten GTZAN genres.
const GTZAN: [(&str, Color); 10] = [
    ("blues", [37, 82, 170]),      // deep blue
    ("classical", [201, 162, 39]), // gold
    ("country", [140, 86, 75]),    // brown
    ("disco", [148, 103, 189]),    // purple
    ("hiphop", [255, 127, 14]),    // orange
    ("jazz", [23, 190, 207]),      // cyan
    ("metal", [60, 60, 60]),       // near black
    ("pop", [227, 119, 194]),      // pink
    ("reggae", [44, 160, 44]),     // green
    ("rock", [214, 39, 40]),       // red
];

/// The colour of a genre: hand-picked for the GTZAN ten (case, spaces and dashes ignored, so
/// "Hip-Hop" is "hiphop"), otherwise a hue from a hash of the name (the same in every run).
pub fn genre_color(name: &str) -> Color {
    let key: String = name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    match GTZAN.iter().find(|(g, _)| *g == key) {
        Some(&(_, c)) => c,
        None => hsl((fnv1a(&key) % 360) as f32, 0.6, 0.45),
    }
}

/// `#rrggbb`, as CSS and the web page read it.
pub fn hex([r, g, b]: Color) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// FNV-1a (64 bit): stable across runs and platforms, unlike std's hasher.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Hue in degrees, saturation and lightness in 0..1.
fn hsl(h: f32, s: f32, l: f32) -> Color {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f32| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [byte(r), byte(g), byte(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: [&str; 10] =
        ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"];

    /// Sum of the channel differences (0..765).
    fn distance(a: Color, b: Color) -> i32 {
        (0..3).map(|k| (a[k] as i32 - b[k] as i32).abs()).sum()
    }

    #[test]
    fn the_ten_gtzan_genres_have_fixed_distinct_colours() {
        assert_eq!(hex(genre_color("metal")), "#3c3c3c");
        assert_eq!(hex(genre_color("rock")), "#d62728");
        assert_eq!(genre_color("Hip-Hop"), genre_color("hiphop"));
        for (i, a) in TEN.iter().enumerate() {
            for b in &TEN[i + 1..] {
                let d = distance(genre_color(a), genre_color(b));
                assert!(d >= 90, "{a} and {b} look alike ({d})");
            }
        }
    }

    #[test]
    fn other_names_get_a_deterministic_hue_from_the_name() {
        let (a, b) = (genre_color("electronic"), genre_color("folk"));
        assert_eq!(a, genre_color("electronic"));
        assert_eq!(hex(a), hex(genre_color("Electronic")));
        assert_ne!(a, b);
        // Not in any order of a class list: the same name, the same colour.
        assert_eq!(genre_color("k-pop"), genre_color("kpop"));
    }

    #[test]
    fn hsl_matches_known_colours() {
        assert_eq!(hsl(0.0, 1.0, 0.5), [255, 0, 0]);
        assert_eq!(hsl(120.0, 1.0, 0.5), [0, 255, 0]);
        assert_eq!(hsl(240.0, 1.0, 0.25), [0, 0, 128]);
    }
}
