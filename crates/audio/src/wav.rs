//! Writing WAV files (for tests, the synthetic generator and `genre` outputs).

use std::path::Path;

/// Sample encodings a WAV file can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavFormat {
    Pcm8,
    Pcm16,
    Pcm24,
    Pcm32,
    Float32,
}

/// Write interleaved samples (full scale = 1.0) as a WAV file.
pub fn write_wav(path: &Path, interleaved: &[f32], sr: u32, channels: u16, format: WavFormat) -> std::io::Result<()> {
    let (bits, float) = match format {
        WavFormat::Pcm8 => (8, false),
        WavFormat::Pcm16 => (16, false),
        WavFormat::Pcm24 => (24, false),
        WavFormat::Pcm32 => (32, false),
        WavFormat::Float32 => (32, true),
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate: sr,
        bits_per_sample: bits,
        sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(to_io)?;
    for &x in interleaved {
        if float {
            w.write_sample(x).map_err(to_io)?;
        } else {
            let full = (1i64 << (bits - 1)) as f64;
            let v = (x.clamp(-1.0, 1.0) as f64 * full).round().clamp(-full, full - 1.0) as i32;
            w.write_sample(v).map_err(to_io)?;
        }
    }
    w.finalize().map_err(to_io)
}

/// Write mono samples as 16-bit PCM.
pub fn write_wav_mono16(path: &Path, samples: &[f32], sr: u32) -> std::io::Result<()> {
    write_wav(path, samples, sr, 1, WavFormat::Pcm16)
}

fn to_io(e: hound::Error) -> std::io::Error {
    match e {
        hound::Error::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    }
}
