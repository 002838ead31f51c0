//! Test helpers shared by the crates' integration tests (a dev-dependency only).

pub mod http;

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

/// Files whose headers lie, built byte by byte for the adversarial tests.
pub mod lying {
    /// A PCM WAV whose header claims `rate` Hz, `channels`, `bits` per sample and `data_claim`
    /// bytes of samples (the real length when `None`), followed by `data`.
    pub fn wav(rate: u32, channels: u16, bits: u16, data_claim: Option<u32>, data: &[u8]) -> Vec<u8> {
        let claim = data_claim.unwrap_or(data.len() as u32);
        let align = channels.wrapping_mul(bits / 8);
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&36u32.wrapping_add(claim).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&rate.wrapping_mul(align as u32).to_le_bytes());
        b.extend_from_slice(&align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&claim.to_le_bytes());
        b.extend_from_slice(data);
        b
    }

    /// Samples per MPEG-1 Layer III frame.
    pub const MP3_FRAME_SAMPLES: u64 = 1152;

    /// An MP3 (MPEG-1 Layer III, 44.1 kHz, 128 kbps, mono) whose Xing tag claims `claimed`
    /// frames, followed by `real` frames of digital silence (all-zero side information).
    pub fn mp3(claimed: u32, real: usize) -> Vec<u8> {
        const HEADER: [u8; 4] = [0xFF, 0xFB, 0x90, 0xC0];
        const FRAME_BYTES: usize = 144 * 128_000 / 44_100; // 417, no padding
        const MONO_SIDE_INFO: usize = 17;
        let mut tag = HEADER.to_vec();
        tag.extend_from_slice(&[0; MONO_SIDE_INFO]);
        tag.extend_from_slice(b"Xing");
        tag.extend_from_slice(&1u32.to_be_bytes()); // flags: the frame count is present
        tag.extend_from_slice(&claimed.to_be_bytes());
        tag.resize(FRAME_BYTES, 0);
        let mut frame = HEADER.to_vec();
        frame.resize(FRAME_BYTES, 0);
        let mut b = tag;
        for _ in 0..real {
            b.extend_from_slice(&frame);
        }
        b
    }
}
