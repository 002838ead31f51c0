//! Times the stages of HPSS on a 30 s signal (profiling aid): `cargo run --release -p genre-features --example hpss_timing`.
use std::time::Instant;

use genre_features::core::{stft, StftParams};
use genre_features::decompose::median_filter_rows;

fn main() {
    let y: Vec<f32> = (0..661_500)
        .map(|i| ((i as f32 * 0.01).sin() + (i as f32 * 0.37).sin() * 0.3) * ((i / 5000) % 3) as f32)
        .collect();
    let s = stft(&y, StftParams::default()).unwrap();
    let mag: Vec<f32> = s.data.iter().map(|c| c.norm()).collect();
    for _ in 0..3 {
        let t = Instant::now();
        let m = median_filter_rows(&mag, s.n_frames, s.n_bins, 31);
        println!(
            "median filter {} x {}: {:.1} ms ({})",
            s.n_frames,
            s.n_bins,
            t.elapsed().as_secs_f64() * 1e3,
            m[1000]
        );
    }
}
