//! Unit conversions (librosa.core.convert): Hz <-> mel, Hz -> octaves, FFT bin frequencies.

/// `librosa.hz_to_mel`: HTK formula or Slaney's (linear below 1 kHz, logarithmic above).
pub fn hz_to_mel(hz: f64, htk: bool) -> f64 {
    if htk {
        return 2595.0 * (1.0 + hz / 700.0).log10();
    }
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / logstep
    } else {
        hz / f_sp
    }
}

/// `librosa.mel_to_hz`.
pub fn mel_to_hz(mel: f64, htk: bool) -> f64 {
    if htk {
        return 700.0 * (10f64.powf(mel / 2595.0) - 1.0);
    }
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// `np.linspace(start, stop, n)` with numpy's arithmetic (step multiply, exact last element).
pub fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * step + start).collect();
    v[n - 1] = stop;
    v
}

/// `librosa.mel_frequencies`: `n` frequencies evenly spaced on the mel scale.
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64, htk: bool) -> Vec<f64> {
    linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n).into_iter().map(|m| mel_to_hz(m, htk)).collect()
}

/// `librosa.fft_frequencies` (`np.fft.rfftfreq(n_fft, 1/sr)`), computed as numpy does.
pub fn fft_frequencies(sr: u32, n_fft: usize) -> Vec<f64> {
    let val = 1.0 / (n_fft as f64 * (1.0 / sr as f64));
    (0..=n_fft / 2).map(|i| i as f64 * val).collect()
}

/// `librosa.hz_to_octs` with A440 tuning offset in fractions of a bin.
pub fn hz_to_octs(hz: f64, tuning: f64, bins_per_octave: usize) -> f64 {
    let a440 = 440.0 * 2f64.powf(tuning / bins_per_octave as f64);
    (hz / (a440 / 16.0)).log2()
}

/// `librosa.tempo_frequencies`: BPM of each autocorrelation lag (lag 0 = infinity).
pub fn tempo_frequencies(n_bins: usize, hop: usize, sr: u32) -> Vec<f64> {
    let mut v = vec![f64::INFINITY; n_bins];
    for (k, b) in v.iter_mut().enumerate().skip(1) {
        *b = 60.0 * sr as f64 / (hop as f64 * k as f64);
    }
    v
}
