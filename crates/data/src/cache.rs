//! The on-disk feature cache: one file per track holding all its windows' features, under a
//! folder named by the hash of the [`FeatureSpec`] (any parameter change means a new folder, so
//! stale features are never read). Files are written whole-or-nothing (temp file + rename), so an
//! interrupted build resumes where it stopped. Training reads single windows with positioned
//! reads: memory does not grow with the data set.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::windows::stream_windows;
use crate::{io_err, DataError, Dataset, Embedder, FeatureSpec, Result, Track};

const MAGIC: &[u8; 4] = b"GNRC";
/// Bumped whenever the features a spec produces change (2: soxr-like resampler filter) or the
/// format does (3: checksum).
const VERSION: u32 = 3;
/// Magic, version, rows, cols, windows (u32 each), then the FNV-1a 64 of the payload: a file of
/// the right size with damaged contents is noticed and recomputed, not learned from.
const HEADER: usize = 28;

pub struct FeatureCache {
    dir: PathBuf,
    spec: FeatureSpec,
}

/// Where one track's windows live.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// Precomputed rows (feature tables), one window.
    Memory(Vec<f32>),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub track: usize,
    pub n_windows: usize,
    pub source: Source,
}

/// The cached windows of a set of tracks.
#[derive(Debug, Clone)]
pub struct CacheIndex {
    pub shape: [usize; 2],
    pub entries: Vec<Entry>,
}

impl FeatureCache {
    pub fn open(root: &Path, spec: &FeatureSpec) -> Result<Self> {
        let dir = root.join(spec.key());
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let spec_path = dir.join("spec.json");
        std::fs::write(&spec_path, serde_json::to_string_pretty(spec).expect("spec serialises"))
            .map_err(io_err(&spec_path))?;
        Ok(Self { dir, spec: spec.clone() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Cache file of a track: keyed by path, size and modification time, so an edited file is
    /// recomputed.
    fn file_for(&self, track: &Track) -> PathBuf {
        let meta = std::fs::metadata(&track.path).ok();
        let stamp = meta.map(|m| {
            (
                m.len(),
                m.modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_nanos())
                    .unwrap_or(0),
            )
        });
        let key = format!("{}|{stamp:?}", track.path.display());
        self.dir.join(format!("{:016x}.f32", crate::hash::fnv1a64(key.as_bytes())))
    }

    /// Make sure every track in `tracks` is cached (computing the missing ones in parallel) and
    /// return the index. Tracks that fail (unreadable audio, ...) are returned with the reason;
    /// the others are unaffected.
    /// Specs with an embedding need its `embedder`.
    pub fn build(
        &self,
        ds: &Dataset,
        tracks: &[usize],
        embedder: Option<&dyn Embedder>,
        on_done: impl Fn() + Sync,
    ) -> (CacheIndex, Vec<(usize, String)>) {
        let results: Vec<(usize, Result<Entry>)> = tracks
            .par_iter()
            .map(|&i| {
                let r = self.entry(ds, i, embedder);
                on_done();
                (i, r)
            })
            .collect();
        let mut entries = Vec::new();
        let mut failures = Vec::new();
        for (i, r) in results {
            match r {
                Ok(e) => entries.push(e),
                Err(e) => failures.push((i, e.to_string())),
            }
        }
        (CacheIndex { shape: self.spec.shape(), entries }, failures)
    }

    fn entry(&self, ds: &Dataset, i: usize, embedder: Option<&dyn Embedder>) -> Result<Entry> {
        let track = &ds.tracks[i];
        if let Some(f) = &track.features {
            return Ok(Entry { track: i, n_windows: 1, source: Source::Memory(f.clone()) });
        }
        let file = self.file_for(track);
        let n_windows = match read_header(&file, self.spec.shape()) {
            Ok(n) => n,
            Err(_) => self.compute(track, &file, embedder)?,
        };
        Ok(Entry { track: i, n_windows, source: Source::File(file) })
    }

    /// Stream the track's windows (bounded memory), embed them when the spec says so, and write
    /// them to a temporary file renamed into place once complete.
    fn compute(&self, track: &Track, file: &Path, embedder: Option<&dyn Embedder>) -> Result<usize> {
        let embedder = match (&self.spec.embedding, embedder) {
            (Some(e), None) => return Err(DataError::Invalid(format!("no embedder given for {}", e.network))),
            (Some(_), Some(e)) => Some(e),
            (None, _) => None,
        };
        let [rows, cols] = self.spec.shape();
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let f = File::create(&tmp).map_err(io_err(&tmp))?;
        let mut out = std::io::BufWriter::new(&f);
        out.write_all(&[0u8; HEADER]).map_err(io_err(&tmp))?; // filled in once the count is known
        let mut checksum = crate::hash::FNV_START;
        let summary = stream_windows(&track.path, &self.spec, 16, None, false, &mut |b| {
            let n = b.windows.len();
            let x = match embedder {
                Some(e) => e.embed(b.x, n).map_err(|msg| DataError::Feature { path: track.path.clone(), msg })?,
                None => b.x,
            };
            if x.len() != n * rows * cols {
                return Err(DataError::Feature { path: track.path.clone(), msg: "feature size mismatch".into() });
            }
            let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
            checksum = crate::hash::fnv1a64_more(checksum, &bytes);
            out.write_all(&bytes).map_err(io_err(&tmp))
        });
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                drop(out);
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        out.flush().map_err(io_err(&tmp))?;
        drop(out);
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        for v in [VERSION, rows as u32, cols as u32, summary.computed as u32] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        header.extend_from_slice(&checksum.to_le_bytes());
        f.write_all_at(&header, 0).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, file).map_err(io_err(file))?;
        Ok(summary.computed)
    }
}

/// Number of windows in a cache file, if it is complete and has the expected shape.
fn read_header(path: &Path, shape: [usize; 2]) -> std::io::Result<usize> {
    let f = File::open(path)?;
    let mut h = [0u8; HEADER];
    f.read_exact_at(&mut h, 0)?;
    let word = |k: usize| u32::from_le_bytes([h[4 + 4 * k], h[5 + 4 * k], h[6 + 4 * k], h[7 + 4 * k]]) as usize;
    let n = word(3);
    let ok = &h[..4] == MAGIC && word(0) == VERSION as usize && [word(1), word(2)] == shape;
    let len = HEADER + n * shape[0] * shape[1] * 4;
    let complete = f.metadata()?.len() as usize == len;
    let bad = |why: &str| Err(std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string()));
    if !(ok && complete) {
        return bad("stale or partial cache file");
    }
    // The payload hashes to the stored checksum (read once per build, sequentially).
    let stored = u64::from_le_bytes(h[20..28].try_into().expect("8 bytes"));
    let (mut hash, mut at, mut buf) = (crate::hash::FNV_START, HEADER, vec![0u8; 1 << 20]);
    while at < len {
        let k = (len - at).min(buf.len());
        f.read_exact_at(&mut buf[..k], at as u64)?;
        hash = crate::hash::fnv1a64_more(hash, &buf[..k]);
        at += k;
    }
    if hash != stored {
        return bad("damaged cache file (checksum)");
    }
    Ok(n)
}

impl CacheIndex {
    /// Every (entry, window) pair: the units training shuffles.
    pub fn items(&self) -> Vec<(usize, usize)> {
        self.entries.iter().enumerate().flat_map(|(e, en)| (0..en.n_windows).map(move |w| (e, w))).collect()
    }

    pub fn window_len(&self) -> usize {
        self.shape[0] * self.shape[1]
    }

    /// Read one window into `out` (length `window_len`).
    pub fn read(&self, entry: usize, window: usize, out: &mut [f32]) -> Result<()> {
        let n = self.window_len();
        match &self.entries[entry].source {
            Source::Memory(v) => out.copy_from_slice(&v[window * n..(window + 1) * n]),
            Source::File(path) => {
                let f = File::open(path).map_err(io_err(path))?;
                let mut bytes = vec![0u8; n * 4];
                f.read_exact_at(&mut bytes, (HEADER + window * n * 4) as u64).map_err(io_err(path))?;
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
        }
        Ok(())
    }
}
