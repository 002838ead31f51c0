//! Frame-by-frame feature extraction over a stream of samples, in bounded memory, with exactly
//! the frames the whole-signal functions produce (centred, zero padded).

use crate::core::{stft_frames, Frame, StftParams};
use crate::{FeatureError, Result};

/// Feeds audio chunks through [`stft_frames`]: each push returns the frames that became
/// complete (frame-major, `width` values each). Only `n_fft` samples are kept between pushes.
pub struct FrameStream<T, F> {
    params: StftParams,
    width: usize,
    per_frame: F,
    buf: Vec<f32>,
    total_in: usize,
    emitted: usize,
    _t: std::marker::PhantomData<T>,
}

impl<T, F> FrameStream<T, F>
where
    T: Copy + Default + Send,
    F: Fn(&mut Frame<'_>, &mut [T]) + Sync,
{
    pub fn new(params: StftParams, width: usize, per_frame: F) -> Result<Self> {
        params.validate()?;
        let buf = if params.center { vec![0.0; params.n_fft / 2] } else { Vec::new() };
        Ok(Self { params, width, per_frame, buf, total_in: 0, emitted: 0, _t: Default::default() })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// Frames emitted so far.
    pub fn frames(&self) -> usize {
        self.emitted
    }

    pub fn push(&mut self, chunk: &[f32]) -> Result<Vec<T>> {
        self.total_in += chunk.len();
        self.buf.extend_from_slice(chunk);
        self.drain(usize::MAX)
    }

    /// Flush the last frames (those overlapping the end padding).
    pub fn finish(&mut self) -> Result<Vec<T>> {
        if self.total_in == 0 {
            return Err(FeatureError::Empty);
        }
        if self.params.center {
            self.buf.extend(std::iter::repeat(0.0).take(self.params.n_fft / 2));
        }
        let expected = self.params.n_frames(self.total_in);
        self.drain(expected.saturating_sub(self.emitted))
    }

    fn drain(&mut self, limit: usize) -> Result<Vec<T>> {
        let (n_fft, hop) = (self.params.n_fft, self.params.hop);
        if self.buf.len() < n_fft {
            return Ok(Vec::new());
        }
        let k = (1 + (self.buf.len() - n_fft) / hop).min(limit);
        if k == 0 {
            return Ok(Vec::new());
        }
        let raw = StftParams { center: false, ..self.params };
        let (_, out) = stft_frames(&self.buf[..(k - 1) * hop + n_fft], raw, self.width, &self.per_frame)?;
        self.buf.drain(..(k * hop).min(self.buf.len()));
        self.emitted += k;
        Ok(out)
    }
}
