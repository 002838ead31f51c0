//! Test helpers shared by the crates' integration tests (a dev-dependency only).

use std::path::{Path, PathBuf};

/// `../shared` beside the project root (or `$GENRE_SHARED`); panics with a clear message when
/// it is missing, so parity tests fail loudly instead of passing vacuously.
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("GENRE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        dir.join("reference/manifest.json").exists(),
        "shared data missing at {} (set GENRE_SHARED)",
        dir.display()
    );
    dir
}

/// `shared/reference`: librosa's outputs and the clips they were made from.
pub fn reference_dir() -> PathBuf {
    shared_dir().join("reference")
}

/// `shared/data/gtzan`.
pub fn gtzan_dir() -> PathBuf {
    shared_dir().join("data/gtzan")
}

/// A raw little-endian f32 file.
pub fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}
