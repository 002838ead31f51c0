//! `librosa.filters`: mel and chroma filter banks.

use crate::convert::{fft_frequencies, hz_to_octs, linspace, mel_frequencies};
use std::sync::{Arc, Mutex};

use crate::Array2;

/// Normalisation of mel filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MelNorm {
    /// Each filter divided by its bandwidth in Hz (constant energy per channel; librosa's default).
    Slaney,
    None,
}

/// Mel filter bank parameters (`librosa.filters.mel`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelParams {
    pub sr: u32,
    pub n_fft: usize,
    pub n_mels: usize,
    pub fmin: f64,
    /// `None` = sr / 2.
    pub fmax: Option<f64>,
    pub htk: bool,
    pub norm: MelNorm,
}

impl Default for MelParams {
    fn default() -> Self {
        Self { sr: 22_050, n_fft: 2048, n_mels: 128, fmin: 0.0, fmax: None, htk: false, norm: MelNorm::Slaney }
    }
}

/// `librosa.filters.mel`: `[n_mels, 1 + n_fft/2]`, computed as librosa does (ramps in f64, weights
/// stored as f32, then Slaney scaling computed in f64 and stored as f32).
pub fn mel(p: &MelParams) -> Array2 {
    let n_bins = 1 + p.n_fft / 2;
    let fmax = p.fmax.unwrap_or(p.sr as f64 / 2.0);
    let fftfreqs = fft_frequencies(p.sr, p.n_fft);
    let mel_f = mel_frequencies(p.n_mels + 2, p.fmin, fmax, p.htk);
    let mut w = Array2::zeros(p.n_mels, n_bins);
    for i in 0..p.n_mels {
        let (lo, mid, hi) = (mel_f[i], mel_f[i + 1], mel_f[i + 2]);
        let (fdiff_lo, fdiff_hi) = (mid - lo, hi - mid);
        let enorm = match p.norm {
            MelNorm::Slaney => 2.0 / (hi - lo),
            MelNorm::None => 1.0,
        };
        for (k, &f) in fftfreqs.iter().enumerate() {
            let lower = -(lo - f) / fdiff_lo;
            let upper = (hi - f) / fdiff_hi;
            let v = lower.min(upper).max(0.0) as f32;
            w.set(i, k, (v as f64 * enorm) as f32);
        }
    }
    w
}

/// The mel bank of `p` in sparse form, built once per distinct parameter set and shared:
/// building it costs about as much as the log-mel of a 3 s clip, and a batch asks for the same
/// bank for every file.
pub fn mel_sparse(p: &MelParams) -> Arc<SparseBank> {
    static CACHE: Mutex<Vec<(MelParams, Arc<SparseBank>)>> = Mutex::new(Vec::new());
    const KEEP: usize = 16;
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, bank)) = cache.iter().find(|(q, _)| q == p) {
        return bank.clone();
    }
    let bank = Arc::new(SparseBank::from_dense(&mel(p)));
    if cache.len() == KEEP {
        cache.remove(0);
    }
    cache.push((*p, bank.clone()));
    bank
}

/// A filter bank stored sparsely (each row's non-zero span): mel filters touch a few dozen of
/// the 1025 bins, so applying them this way is ~20x less work than a dense matrix product.
#[derive(Debug, Clone)]
pub struct SparseBank {
    pub n_in: usize,
    /// (first non-zero column, weights) per output row.
    pub rows: Vec<(usize, Vec<f32>)>,
}

impl SparseBank {
    pub fn from_dense(a: &Array2) -> Self {
        let rows = (0..a.rows)
            .map(|r| {
                let row = a.row(r);
                match row.iter().position(|&v| v != 0.0) {
                    None => (0, Vec::new()),
                    Some(s) => {
                        let e = row.iter().rposition(|&v| v != 0.0).unwrap() + 1;
                        (s, row[s..e].to_vec())
                    }
                }
            })
            .collect();
        Self { n_in: a.cols, rows }
    }

    /// `out[r] = sum_k bank[r, k] * x[k]`.
    #[inline]
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        self.apply_with(x, |&v| v, out)
    }

    /// `out[r] = sum_k bank[r, k] * f(x[k])`: lets callers project e.g. |STFT|^2 without first
    /// materialising it.
    #[inline]
    pub fn apply_with<T>(&self, x: &[T], f: impl Fn(&T) -> f32, out: &mut [f32]) {
        for (o, (s, w)) in out.iter_mut().zip(&self.rows) {
            *o = dot(w, &x[*s..*s + w.len()], &f);
        }
    }
}

/// `sum_k w[k] * f(x[k])` in eight independent partial sums: a single running sum is one long
/// chain of dependent adds that the compiler may not reorder, so it neither vectorises nor
/// pipelines (measured 4x slower on the mel projection). The result differs from sequential
/// order by rounding only, as BLAS's does (librosa projects with a matrix product).
#[inline]
fn dot<T>(w: &[f32], x: &[T], f: impl Fn(&T) -> f32) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0.0f32; LANES];
    let (w_body, w_tail) = w.split_at(w.len() - w.len() % LANES);
    for (wc, xc) in w_body.chunks_exact(LANES).zip(x.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += wc[l] * f(&xc[l]);
        }
    }
    let tail: f32 = w_tail.iter().zip(&x[w_body.len()..]).map(|(a, b)| a * f(b)).sum();
    acc.iter().sum::<f32>() + tail
}

/// `librosa.filters.chroma(sr, n_fft, tuning, n_chroma)` with librosa's defaults (ctroct 5,
/// octwidth 2, L2 norm, base C): `[n_chroma, 1 + n_fft/2]`.
pub fn chroma(sr: u32, n_fft: usize, tuning: f64, n_chroma: usize) -> Array2 {
    let nc = n_chroma as f64;
    let freqs = linspace(0.0, sr as f64, n_fft + 1); // endpoint=False == first n_fft of n_fft+1
    let mut frqbins: Vec<f64> = freqs[1..n_fft].iter().map(|&f| nc * hz_to_octs(f, tuning, n_chroma)).collect();
    frqbins.insert(0, frqbins[0] - 1.5 * nc);
    let mut binwidth: Vec<f64> = frqbins.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
    binwidth.push(1.0);
    let n_chroma2 = (nc / 2.0).round();
    let mut wts = vec![vec![0.0f64; n_fft]; n_chroma];
    for (c, row) in wts.iter_mut().enumerate() {
        for k in 0..n_fft {
            let d = frqbins[k] - c as f64;
            let d = (d + n_chroma2 + 10.0 * nc).rem_euclid(nc) - n_chroma2;
            row[k] = (-0.5 * (2.0 * d / binwidth[k]).powi(2)).exp();
        }
    }
    // L2-normalise each column, then weight by a Gaussian over octaves centred on ctroct.
    for k in 0..n_fft {
        let norm = wts.iter().map(|r| r[k] * r[k]).sum::<f64>().sqrt();
        let oct = (-0.5 * ((frqbins[k] / nc - 5.0) / 2.0).powi(2)).exp();
        for row in wts.iter_mut() {
            row[k] = if norm > f64::MIN_POSITIVE { row[k] / norm } else { row[k] } * oct;
        }
    }
    // base_c: roll so that row 0 is C rather than A.
    let shift = 3 * (n_chroma / 12);
    let n_bins = 1 + n_fft / 2;
    let mut out = Array2::zeros(n_chroma, n_bins);
    for c in 0..n_chroma {
        let src = &wts[(c + shift) % n_chroma];
        for k in 0..n_bins {
            out.set(c, k, src[k] as f32);
        }
    }
    out
}
