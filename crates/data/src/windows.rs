//! Cutting a file into feature windows while it is decoded: memory stays bounded whatever the
//! file's length (only the samples of the window being cut are kept), and the windows are exactly
//! those [`window_starts`] gives for the whole signal.

use std::path::Path;

use genre_audio::window::window_count;
use genre_audio::{AudioStream, LoadOptions};
use rayon::prelude::*;

use crate::{DataError, FeatureSpec, Result};

/// Input features of consecutive windows (some may be skipped, see [`stream_windows`]).
pub struct WindowBatch {
    /// Window index and start sample (at the spec's rate) of each window.
    pub windows: Vec<(usize, usize)>,
    /// Row-major `[n, rows, cols]` ([`FeatureSpec::input_shape`]).
    pub x: Vec<f32>,
}

/// What [`stream_windows`] read.
pub struct StreamSummary {
    /// Samples at the spec's rate.
    pub samples: usize,
    /// Windows in the file, and how many were computed.
    pub windows: usize,
    pub computed: usize,
    /// Largest absolute sample: 0 for digital silence.
    pub peak: f32,
    /// The windows were read by seeking to each (see [`stream_windows`]), not decoded in one
    /// pass: then `samples` is the header's length and `peak` that of the windows read.
    pub sought: bool,
}

/// Decode `path` at the spec's rate and hand the input features of up to `batch` windows at a
/// time to `on_batch`. With `max_windows` = m, at most m windows are computed (when the file's
/// header states its length; all windows when it states none), evenly spread: every k-th
/// window from the first, and the last, with k chosen so that the two together are at most m.
///
/// With `cover_end`, a file that goes on for half a second or more past its last full window
/// gets one more window ending at the file's end, so that the answers' timeline covers the
/// whole file (a 4.4 s file: 0-3 s and 1.4-4.4 s). Training windows (the cache) leave it out:
/// they are the file's full windows only, as musicnn's own extractor cuts them.
pub fn stream_windows(
    path: &Path,
    spec: &FeatureSpec,
    batch: usize,
    max_windows: Option<usize>,
    cover_end: bool,
    on_batch: &mut dyn FnMut(WindowBatch) -> Result<()>,
) -> Result<StreamSummary> {
    let mut stream = AudioStream::open(path, LoadOptions { sr: Some(spec.sr), ..LoadOptions::default() })?;
    let (len, hop) = spec.windowing().samples(spec.sr);
    let ctx = spec.context();
    // An end window for a tail of at least half a second: less is not worth a window that
    // would weigh the file's last seconds twice in its mean.
    let min_tail = (spec.sr / 2) as usize;
    // Windows the header's length implies, the end window included: it is the "last" one.
    let header_total = expected_samples(&stream);
    let expected = header_total.map(|n| {
        let full = window_count(n, len, hop);
        full + usize::from(cover_end && n > len && (full - 1) * hop + len + min_tail <= n)
    });
    let (stride, keep_last, first) = spread(max_windows, expected);
    // Only a spread subset is sought, and only as many windows as `worth_seeking` could take:
    // the header's claimed length alone never sizes the list of picks.
    let few = |n: usize| stride > 1 && (n - first) / stride < (1 << 24) / (len + ctx).max(1);
    if let (Some(n), Some(total)) = (expected.filter(|&n| few(n)), header_total) {
        let picks = picked((stride, keep_last, first), n, |k| {
            if k * hop + len <= total {
                k * hop
            } else {
                total.saturating_sub(len)
            }
        });
        if worth_seeking(picks.len(), len + ctx, total, spec.sr) {
            drop(stream);
            if let Some(summary) = read_by_seeking(path, spec, &picks, (n, total), batch, on_batch)? {
                return Ok(summary);
            }
            stream = AudioStream::open(path, LoadOptions { sr: Some(spec.sr), ..LoadOptions::default() })?;
        }
    }
    let feature_err = |e: genre_features::FeatureError| DataError::Feature { path: path.into(), msg: e.to_string() };
    // `buf` holds samples from `buf_start` on; window k starts at k * hop.
    let (mut buf, mut buf_start, mut next) = (Vec::<f32>::new(), 0usize, 0usize);
    let mut pending: Vec<(usize, usize, Vec<f32>)> = Vec::new();
    let (mut total, mut computed, mut peak) = (0usize, 0usize, 0f32);
    // The latest skipped window: computed at the end if it is the file's last, so that a spread
    // subset still reaches the end of the file.
    let mut last_skipped: Option<(usize, usize, Vec<f32>)> = None;
    let mut flush = |pending: &mut Vec<(usize, usize, Vec<f32>)>, computed: &mut usize| -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let feats: Vec<Vec<f32>> = pending
            .par_iter()
            .map(|(_, _, w)| spec.extract(w))
            .collect::<std::result::Result<_, _>>()
            .map_err(feature_err)?;
        *computed += pending.len();
        let windows = pending.drain(..).map(|(k, s, _)| (k, s)).collect();
        on_batch(WindowBatch { windows, x: feats.concat() })
    };
    while let Some(chunk) = stream.next_chunk()? {
        total += chunk.len();
        peak = chunk.iter().fold(peak, |m, v| m.max(v.abs()));
        buf.extend_from_slice(&chunk);
        while next * hop + len <= total {
            let start = next * hop;
            if next >= first && (next - first) % stride == 0 {
                // `buf` still holds the `ctx` samples before `start` (kept below).
                pending.push((next, start, spec.window(&buf, start - buf_start)));
                if pending.len() >= batch.max(1) {
                    flush(&mut pending, &mut computed)?;
                }
            } else {
                last_skipped = Some((next, start, spec.window(&buf, start - buf_start)));
            }
            next += 1;
        }
        // Keep what the next window needs: from its start minus the context (and, to cover the
        // end, what a window ending at the last sample needs).
        let next_start = if cover_end { (next * hop).min(total.saturating_sub(len)) } else { next * hop };
        let keep_from = next_start.saturating_sub(ctx).max(buf_start);
        let drop = (keep_from - buf_start).min(buf.len());
        buf.drain(..drop);
        buf_start += drop;
    }
    if total == 0 {
        return Err(DataError::Feature { path: path.into(), msg: "no audio samples".into() });
    }
    let tail = next > 0 && cover_end && (next - 1) * hop + len + min_tail <= total;
    if tail && keep_last {
        // A window ending at the file's end stands for the last one.
        let start = total - len;
        pending.push((next, start, spec.window(&buf, start - buf_start)));
        next += 1;
    } else if let Some(last) = last_skipped.filter(|l| l.0 + 1 == next && (keep_last || computed + pending.len() == 0))
    {
        // The last window; or, when the header promised more than the file holds and the chosen
        // window lay past its real end, the only one computed.
        pending.push(last);
    }
    if next == 0 {
        // Shorter than one window: one window over the whole signal (padded; musicnn repeats it).
        pending.push((0, 0, spec.window(&buf, 0)));
        next = 1;
    }
    flush(&mut pending, &mut computed)?;
    Ok(StreamSummary { samples: total, windows: next, computed, peak, sought: false })
}

/// The windows `picks` (index, start) alone, of `n` windows in `total` samples as the header
/// says, each read by seeking to it instead of decoding the whole file: 16 windows of 3 s of a
/// 3-minute song decode a quarter of it, its middle 30 s a sixth. Each read starts and ends
/// [`SEEK_MARGIN_SECS`] outside its window, so that the resampler has the history it has in a
/// whole-file decode and the window's samples are the same up to rounding (tested). All windows
/// are read before any is handed on: `None` (nothing handed on) when the file holds less than
/// its header said, and the caller then decodes it whole. The peak is that of the windows read.
fn read_by_seeking(
    path: &Path,
    spec: &FeatureSpec,
    picks: &[(usize, usize)],
    (n, total): (usize, usize),
    batch: usize,
    on_batch: &mut dyn FnMut(WindowBatch) -> Result<()>,
) -> Result<Option<StreamSummary>> {
    let (len, _) = spec.windowing().samples(spec.sr);
    let sr = spec.sr as f64;
    let margin = (SEEK_MARGIN_SECS * sr) as usize;
    let mut windows = Vec::with_capacity(picks.len());
    let mut peak = 0f32;
    for &(k, start) in picks {
        let from = start.saturating_sub(spec.context() + margin);
        let duration = Some((start + len + margin - from) as f64 / sr);
        let opts = LoadOptions { sr: Some(spec.sr), offset: from as f64 / sr, duration };
        let samples = AudioStream::open(path, opts)?.read_to_end()?.samples;
        if samples.len() < start + len - from {
            return Ok(None);
        }
        peak = samples[start - from..start - from + len].iter().fold(peak, |m, v| m.max(v.abs()));
        windows.push((k, start, spec.window(&samples, start - from)));
    }
    for chunk in windows.chunks(batch.max(1)) {
        let feats: Vec<Vec<f32>> = chunk
            .par_iter()
            .map(|(_, _, w)| spec.extract(w))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| DataError::Feature { path: path.into(), msg: e.to_string() })?;
        on_batch(WindowBatch { windows: chunk.iter().map(|(k, s, _)| (*k, *s)).collect(), x: feats.concat() })?;
    }
    Ok(Some(StreamSummary { samples: total, windows: n, computed: picks.len(), peak, sought: true }))
}

/// Seek to each window rather than decode the file when the windows read (with their margins
/// and the decoder's pre-roll after a seek) are at most half of it, and few enough to hold in
/// memory at once (16 M samples: 64 MB).
fn worth_seeking(picks: usize, window: usize, total: usize, sr: u32) -> bool {
    let extra = (2.0 * SEEK_MARGIN_SECS + genre_audio::decode::SEEK_PREROLL_SECS) * sr as f64;
    picks * (window + extra as usize) <= total / 2 && picks * window <= 1 << 24
}

/// The (index, start) of the windows [`spread`]'s choice computes of `n`; `start_of` gives a
/// window's first sample (the end window's ends at the file's end).
fn picked(
    (stride, keep_last, first): (usize, bool, usize),
    n: usize,
    start_of: impl Fn(usize) -> usize,
) -> Vec<(usize, usize)> {
    let mut ks: Vec<usize> = (first..n).step_by(stride.max(1)).collect();
    if keep_last && n > 0 && ks.last() != Some(&(n - 1)) {
        ks.push(n - 1);
    }
    ks.into_iter().map(|k| (k, start_of(k))).collect()
}

/// Audio read on either side of a window reached by seeking (see [`read_by_seeking`]).
const SEEK_MARGIN_SECS: f64 = 0.1;

/// (k, keep the last, first): every k-th window of `count` from `first` is computed, and the
/// last one too when `keep_last`, so that at most `max` are (windows 0, k, 2k, ... then the
/// last). One window is the middle one: the part of a song most like the rest of it (a
/// GTZAN-style 30 s excerpt, not the intro).
fn spread(max: Option<usize>, count: Option<usize>) -> (usize, bool, usize) {
    match (max, count) {
        (Some(m), Some(n)) if m > 0 && n > m => {
            if m == 1 {
                (usize::MAX, false, (n - 1) / 2)
            } else {
                // Multiples of k below n-1: at most m-1 of them when k >= (n-1)/(m-1).
                ((n - 1).div_ceil(m - 1), true, 0)
            }
        }
        _ => (1, true, 0),
    }
}

/// Length at the output rate that the file's header states, if any.
fn expected_samples(stream: &AudioStream) -> Option<usize> {
    let info = stream.source_info();
    let n = info.n_frames?;
    Some((n as f64 * stream.sr() as f64 / info.sample_rate.max(1) as f64) as usize)
}

#[cfg(test)]
mod tests {
    use super::{picked as chosen, spread};

    /// The windows `spread` picks out of `n`.
    fn picked(m: usize, n: usize) -> Vec<usize> {
        chosen(spread(Some(m), Some(n)), n, |k| k).into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn at_most_max_windows_first_and_last_included() {
        for n in 1..200 {
            for m in 1..40 {
                let w = picked(m, n);
                assert!(w.len() <= m.max(1), "m {m}, n {n}: {} windows", w.len());
                if m == 1 && n > 1 {
                    assert_eq!(w, [(n - 1) / 2], "one window of {n}: the middle one");
                    continue;
                }
                assert_eq!(w[0], 0);
                if m >= 2 || n == 1 {
                    assert_eq!(*w.last().unwrap(), n - 1, "m {m}, n {n}");
                }
                if n <= m {
                    assert_eq!(w.len(), n);
                }
            }
        }
        assert_eq!(picked(64, 1000).len(), 64);
    }
}
