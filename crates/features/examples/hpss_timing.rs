//! Times the median filters of HPSS on a 30 s signal (profiling aid):
//! `RAYON_NUM_THREADS=1 cargo run --release -p genre-features --example hpss_timing`.
use std::time::Instant;

use genre_features::core::{stft, StftParams};
use genre_features::decompose::{median_filter_columns, median_filter_rows};

fn main() {
    let y: Vec<f32> = (0..661_500)
        .map(|i| ((i as f32 * 0.01).sin() + (i as f32 * 0.37).sin() * 0.3) * ((i / 5000) % 3) as f32)
        .collect();
    let s = stft(&y, StftParams::default()).unwrap();
    let mag: Vec<f32> = s.data.iter().map(|c| c.norm()).collect();
    let (mut along_time, mut along_freq) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let t = Instant::now();
        std::hint::black_box(median_filter_columns(&mag, s.n_frames, s.n_bins, 31));
        along_time.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        std::hint::black_box(median_filter_rows(&mag, s.n_frames, s.n_bins, 31));
        along_freq.push(t.elapsed().as_secs_f64() * 1e3);
    }
    for (name, mut ms) in [("along time", along_time), ("along frequency", along_freq)] {
        ms.sort_by(f64::total_cmp);
        println!("{} x {} {name}: min {:.1} ms, median {:.1} ms", s.n_frames, s.n_bins, ms[0], ms[ms.len() / 2]);
    }
}
