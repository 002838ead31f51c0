//! Removal of long silent stretches (keeping short pauses, which are part of the music).

/// Silence detection settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SilenceOptions {
    /// Frames whose RMS level is below this (dBFS, full scale = 1.0) are silent.
    pub threshold_db: f32,
    /// Only silent stretches at least this long are removed.
    pub min_silence_secs: f64,
    /// Analysis frame length in seconds.
    pub frame_secs: f64,
}

impl Default for SilenceOptions {
    fn default() -> Self {
        Self { threshold_db: -60.0, min_silence_secs: 1.0, frame_secs: 0.025 }
    }
}

/// Sample ranges `[start, end)` of silent stretches at least `min_silence_secs` long.
pub fn silent_spans(signal: &[f32], sr: u32, opts: &SilenceOptions) -> Vec<(usize, usize)> {
    let frame = ((opts.frame_secs * sr as f64).round() as usize).max(1);
    let min_len = (opts.min_silence_secs * sr as f64).round() as usize;
    // Compare mean power against the threshold in the power domain: no log of zero, no -inf.
    let threshold_power = 10f64.powf(opts.threshold_db as f64 / 10.0);
    let mut spans = Vec::new();
    let mut run_start: Option<usize> = None;
    for (i, chunk) in signal.chunks(frame).enumerate() {
        let power = chunk.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>() / chunk.len() as f64;
        let start = i * frame;
        if power < threshold_power {
            run_start.get_or_insert(start);
        } else if let Some(s) = run_start.take() {
            if start - s >= min_len {
                spans.push((s, start));
            }
        }
    }
    if let Some(s) = run_start {
        if signal.len() - s >= min_len {
            spans.push((s, signal.len()));
        }
    }
    spans
}

/// The signal with every silent stretch of at least `min_silence_secs` removed.
pub fn remove_silence(signal: &[f32], sr: u32, opts: &SilenceOptions) -> Vec<f32> {
    let spans = silent_spans(signal, sr, opts);
    let mut out = Vec::with_capacity(signal.len());
    let mut pos = 0;
    for (s, e) in spans {
        out.extend_from_slice(&signal[pos..s]);
        pos = e;
    }
    out.extend_from_slice(&signal[pos..]);
    out
}
