//! Decode + resample as one bounded-memory stream, and `load` for whole files.

use std::path::Path;

use crate::decode::{Decoder, SourceInfo};
use crate::error::{AudioError, Result};
use crate::resample::StreamResampler;
use crate::{Audio, DEFAULT_SR};

/// How to read a file (librosa.load's `sr`, `offset`, `duration`; always mono).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadOptions {
    /// Output rate; `None` keeps the file's own rate.
    pub sr: Option<u32>,
    /// Seconds to skip at the start.
    pub offset: f64,
    /// Seconds to read at most.
    pub duration: Option<f64>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { sr: Some(DEFAULT_SR), offset: 0.0, duration: None }
    }
}

impl LoadOptions {
    pub fn native_rate() -> Self {
        Self { sr: None, ..Self::default() }
    }
}

/// Mono audio at the requested rate, delivered chunk by chunk: memory stays bounded whatever the
/// length of the file.
pub struct AudioStream {
    decoder: Decoder,
    resampler: StreamResampler,
    sr: u32,
    /// Native-rate frames still allowed through (duration limit).
    remaining_in: Option<u64>,
    done: bool,
}

impl AudioStream {
    pub fn open(path: &Path, opts: LoadOptions) -> Result<Self> {
        let mut decoder = Decoder::open(path)?;
        let native = decoder.info().sample_rate;
        let sr = opts.sr.unwrap_or(native);
        if let Some(d) = opts.duration {
            if !(d.is_finite() && d >= 0.0) {
                return Err(AudioError::InvalidRequest { path: path.into(), detail: format!("duration {d} s") });
            }
        }
        decoder.seek(opts.offset)?;
        let resampler = StreamResampler::new(native, sr)?;
        let remaining_in = opts.duration.map(|d| (d * native as f64).round() as u64);
        Ok(Self { decoder, resampler, sr, remaining_in, done: false })
    }

    /// Output sample rate.
    pub fn sr(&self) -> u32 {
        self.sr
    }

    pub fn source_info(&self) -> &SourceInfo {
        self.decoder.info()
    }

    /// Next chunk at the output rate (may be empty while the resampler fills), `None` at the end.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<f32>>> {
        if self.done {
            return Ok(None);
        }
        let chunk = if self.remaining_in == Some(0) { None } else { self.decoder.next_chunk()? };
        match chunk {
            Some(mut c) => {
                if let Some(rem) = self.remaining_in.as_mut() {
                    c.truncate((*rem).min(c.len() as u64) as usize);
                    *rem -= c.len() as u64;
                }
                Ok(Some(self.resampler.push(c)?))
            }
            None => {
                self.done = true;
                let tail = self.resampler.finish()?;
                Ok(if tail.is_empty() { None } else { Some(tail) })
            }
        }
    }

    /// Read everything that is left.
    pub fn read_to_end(mut self) -> Result<Audio> {
        let mut samples = Vec::with_capacity(self.expected_len());
        while let Some(c) = self.next_chunk()? {
            samples.extend_from_slice(&c);
        }
        Ok(Audio::new(samples, self.sr))
    }

    fn expected_len(&self) -> usize {
        let info = self.decoder.info();
        let frames = match (info.n_frames, self.remaining_in) {
            (Some(n), Some(r)) => n.min(r),
            (Some(n), None) => n,
            (None, Some(r)) => r,
            (None, None) => 0,
        };
        // Headers can lie: pre-allocate at most 16 MB; past that the buffer grows with the
        // samples actually decoded.
        ((frames as f64 * self.sr as f64 / info.sample_rate as f64) as usize).min(1 << 22)
    }
}

/// Load a whole file as mono f32 (librosa.load). Errors name the file and the cause.
pub fn load(path: &Path, opts: LoadOptions) -> Result<Audio> {
    AudioStream::open(path, opts)?.read_to_end()
}
