//! Audio front end of `genre`: decode any common format to mono f32 at a target rate, cut it into
//! windows, drop long silences, augment, and synthesise test signals.
//!
//! Data flows one way: [`decode`] (file -> native-rate mono chunks) -> [`resample`] (-> target rate)
//! -> [`window`] / [`silence`] / [`augment`]. [`stream::AudioStream`] ties decode and resample together
//! so that long files are processed chunk by chunk in bounded memory; [`load`] collects a whole file.

pub mod augment;
pub mod decode;
pub mod error;
mod pcm;
pub mod resample;
pub mod silence;
pub mod stream;
pub mod synth;
pub mod wav;
pub mod window;

pub use error::{AudioError, Result};
pub use stream::{load, AudioStream, LoadOptions};

/// librosa's default analysis rate, and the rate every model in `genre` expects.
pub const DEFAULT_SR: u32 = 22_050;

/// Mono audio at a known sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub sr: u32,
}

impl Audio {
    pub fn new(samples: Vec<f32>, sr: u32) -> Self {
        Self { samples, sr }
    }

    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / self.sr as f64
    }
}
