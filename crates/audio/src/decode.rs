//! Container/codec decoding with symphonia, down-mixed to mono at the file's own rate.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{Decoder as CodecDecoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::conv::FromSample;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::sample::Sample;
use symphonia::core::units::Time;

use crate::error::{AudioError, Result};
use crate::pcm::PcmWav;

/// What a file says about itself before decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub sample_rate: u32,
    pub channels: usize,
    /// Total frames per channel, when the container states it.
    pub n_frames: Option<u64>,
    pub codec: String,
}

/// Sample rates a file may declare. Anything outside is a corrupt or hostile header: a rate of 0
/// divides by zero downstream, and 1 Hz or 4 GHz would size the resampler's buffers from the
/// header's claim rather than from the data.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;
/// Channels a file may declare (a header claiming more is refused, not allocated for).
pub const MAX_CHANNELS: usize = 64;

/// (sample rate, channels) of a RIFF/WAVE file's `fmt ` chunk, read from its first 4 KB.
fn riff_fmt(path: &Path) -> Option<(u32, usize)> {
    use std::io::Read;
    let mut head = [0u8; 4096];
    let n = genre_fsio::open_regular(path).ok()?.read(&mut head).ok()?;
    let b = &head[..n];
    if b.len() < 12 || &b[..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return None;
    }
    let mut at = 12;
    while at + 8 <= b.len() {
        let size = u32::from_le_bytes(b[at + 4..at + 8].try_into().ok()?) as usize;
        if &b[at..at + 4] == b"fmt " && at + 16 <= b.len() {
            let channels = u16::from_le_bytes(b[at + 10..at + 12].try_into().ok()?) as usize;
            let rate = u32::from_le_bytes(b[at + 12..at + 16].try_into().ok()?);
            return Some((rate, channels));
        }
        at = at.checked_add(8 + size + size % 2)?;
    }
    None
}

fn check_header(path: &Path, info: &SourceInfo) -> Result<()> {
    let bad = |detail: String| Err(AudioError::Corrupt { path: path.into(), detail });
    if !SAMPLE_RATES.contains(&info.sample_rate) {
        return bad(format!(
            "header sample rate {} Hz is outside {}..={} Hz",
            info.sample_rate,
            SAMPLE_RATES.start(),
            SAMPLE_RATES.end()
        ));
    }
    if info.channels == 0 || info.channels > MAX_CHANNELS {
        return bad(format!("header declares {} channels (1..={MAX_CHANNELS} accepted)", info.channels));
    }
    Ok(())
}

/// Streams a file as mono f32 chunks at its native rate (librosa's `to_mono`: mean of channels).
pub struct Decoder {
    path: PathBuf,
    info: SourceInfo,
    backend: Backend,
}

/// Uncompressed WAV is read directly ([`PcmWav`], several times faster); everything else, and
/// WAV encodings that reader does not take, goes through symphonia.
enum Backend {
    Pcm(PcmWav),
    Codec(Box<CodecStream>),
}

/// A symphonia format reader and codec decoder for one track.
struct CodecStream {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn CodecDecoder>,
    track_id: u32,
    /// Frames still to drop before output starts (offset not reachable by an exact seek).
    skip_frames: u64,
    decoded_any: bool,
    recoverable_errors: usize,
    last_error: Option<String>,
    /// Channels of the last decoded packet.
    channels: usize,
    /// A chunk decoded ahead (to learn the channel count when the container leaves it open),
    /// handed out first.
    pending: Option<Vec<f32>>,
}

/// Recoverable packet errors tolerated before a stream is declared corrupt. MP3 streams often carry
/// a bad first frame or two; a file that is *mostly* garbage must still fail loudly.
const MAX_RECOVERABLE_ERRORS: usize = 64;

/// How far before the requested offset a seek lands (then decodes and drops up to the offset).
pub const SEEK_PREROLL_SECS: f64 = 0.25;

impl Decoder {
    pub fn open(path: &Path) -> Result<Self> {
        let file = genre_fsio::open_regular(path).map_err(|source| AudioError::Open { path: path.into(), source })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            return Err(AudioError::EmptyFile { path: path.into() });
        }
        if let Some(pcm) = PcmWav::open(path) {
            check_header(path, pcm.info())?;
            return Ok(Self { path: path.into(), info: pcm.info().clone(), backend: Backend::Pcm(pcm) });
        }
        // symphonia panics on some impossible WAV headers (a rate of 0): refuse them first.
        if let Some((rate, channels)) = riff_fmt(path) {
            check_header(path, &SourceInfo { sample_rate: rate, channels, n_frames: None, codec: String::new() })?;
        }
        // Any other panic of the third-party decoder on hostile bytes becomes this file's error.
        let (info, codec) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| CodecStream::open(path, file))).map_err(
                |_| AudioError::Corrupt { path: path.into(), detail: "the decoder rejected the stream".into() },
            )??;
        let (info, codec) = learn_channels(path, info, codec)?;
        check_header(path, &info)?;
        Ok(Self { path: path.into(), info, backend: Backend::Codec(Box::new(codec)) })
    }

    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Start output `offset` seconds into the file. Uses the container's seek where it has one
    /// (then drops the few frames between the seek point and the target); otherwise decodes and
    /// discards, which is always correct, only slower.
    pub fn seek(&mut self, offset: f64) -> Result<()> {
        if !(offset.is_finite() && offset >= 0.0) {
            return Err(AudioError::InvalidRequest { path: self.path.clone(), detail: format!("offset {offset} s") });
        }
        if offset == 0.0 {
            return Ok(());
        }
        let target = (offset * self.info.sample_rate as f64).round() as u64;
        match &mut self.backend {
            Backend::Pcm(pcm) => {
                pcm.skip(target).map_err(|e| AudioError::Corrupt { path: self.path.clone(), detail: e.to_string() })
            }
            Backend::Codec(codec) => {
                codec.seek(offset, target);
                Ok(())
            }
        }
    }

    /// Next chunk of mono samples, or `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<f32>>> {
        match &mut self.backend {
            Backend::Pcm(pcm) => {
                pcm.next_chunk().map_err(|e| AudioError::Corrupt { path: self.path.clone(), detail: e.to_string() })
            }
            Backend::Codec(codec) => codec.next_chunk(&self.path),
        }
    }
}

/// MP4 (AAC, ALAC) tracks may leave the channel count to the first packet: decode it (kept
/// for the first chunk) and take the count from the decoder's output.
fn learn_channels(path: &Path, mut info: SourceInfo, mut codec: CodecStream) -> Result<(SourceInfo, CodecStream)> {
    if info.channels != 0 {
        return Ok((info, codec));
    }
    let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| codec.next_chunk(path)))
        .map_err(|_| AudioError::Corrupt { path: path.into(), detail: "the decoder rejected the stream".into() })??;
    info.channels = codec.channels;
    codec.pending = first;
    Ok((info, codec))
}

impl CodecStream {
    fn open(path: &Path, file: File) -> Result<(SourceInfo, Self)> {
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        // Gapless trimming removes MP3 encoder delay/padding, so sample 0 lines up with the source
        // (as libsndfile/mpg123 and FFmpeg do).
        let fmt_opts = FormatOptions { enable_gapless: true, ..Default::default() };
        let probed = symphonia::default::get_probe()
            .format(&hint, mss, &fmt_opts, &MetadataOptions::default())
            .map_err(|e| AudioError::UnknownFormat { path: path.into(), detail: e.to_string() })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| AudioError::NoTrack { path: path.into() })?;
        let params = track.codec_params.clone();
        let sample_rate = params.sample_rate.ok_or_else(|| AudioError::NoSampleRate { path: path.into() })?;
        if sample_rate == 0 {
            return Err(AudioError::NoSampleRate { path: path.into() });
        }
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(|e| AudioError::UnsupportedCodec { path: path.into(), detail: e.to_string() })?;
        let codec = symphonia::default::get_codecs()
            .get_codec(params.codec)
            .map(|d| d.short_name.to_string())
            .unwrap_or_else(|| "unknown".into());
        let info = SourceInfo {
            sample_rate,
            channels: params.channels.map(|c| c.count()).unwrap_or(0),
            n_frames: params.n_frames,
            codec,
        };
        let stream = Self {
            track_id: track.id,
            format,
            decoder,
            skip_frames: 0,
            decoded_any: false,
            recoverable_errors: 0,
            last_error: None,
            channels: 0,
            pending: None,
        };
        Ok((info, stream))
    }

    /// Seek to `offset` seconds (`target` frames at the file's rate).
    fn seek(&mut self, offset: f64, target: u64) {
        // Seek a little early: lossy decoders (MP3's bit reservoir, Vorbis/AAC overlap) need a
        // few packets of history before their output is exact.
        let early = (offset - SEEK_PREROLL_SECS).max(0.0);
        let time = Time::new(early.trunc() as u64, early.fract());
        let seeked = self.format.seek(SeekMode::Accurate, SeekTo::Time { time, track_id: Some(self.track_id) });
        match seeked {
            Ok(to) => {
                self.pending = None;
                self.decoder.reset();
                self.skip_frames = target.saturating_sub(to.actual_ts);
            }
            Err(_) => self.skip_frames = target,
        }
    }

    fn next_chunk(&mut self, path: &Path) -> Result<Option<Vec<f32>>> {
        loop {
            let mut mono = match self.pending.take() {
                Some(m) => m,
                None => match self.decode_next(path)? {
                    Some(m) => m,
                    None => return Ok(None),
                },
            };
            if self.skip_frames > 0 {
                let drop = (self.skip_frames as usize).min(mono.len());
                mono.drain(..drop);
                self.skip_frames -= drop as u64;
            }
            if !mono.is_empty() {
                return Ok(Some(mono));
            }
        }
    }

    /// The next decoded packet of the track, mixed to mono (`None` at the end).
    fn decode_next(&mut self, path: &Path) -> Result<Option<Vec<f32>>> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return self.finish(path),
                Err(SymError::ResetRequired) => {
                    self.decoder.reset();
                    continue;
                }
                Err(e) => {
                    // A truncated or damaged tail: keep what decoded cleanly, fail if nothing did.
                    self.last_error = Some(e.to_string());
                    return self.finish(path);
                }
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(e)) => {
                    self.recoverable_errors += 1;
                    self.last_error = Some(e.to_string());
                    if self.recoverable_errors > MAX_RECOVERABLE_ERRORS {
                        return Err(AudioError::Corrupt {
                            path: path.into(),
                            detail: format!("{} undecodable packets, last: {e}", self.recoverable_errors),
                        });
                    }
                    continue;
                }
                Err(SymError::IoError(e)) => {
                    self.last_error = Some(e.to_string());
                    return self.finish(path);
                }
                Err(e) => return Err(AudioError::Corrupt { path: path.into(), detail: e.to_string() }),
            };
            if decoded.frames() == 0 {
                continue;
            }
            self.channels = decoded.spec().channels.count();
            self.decoded_any = true;
            return Ok(Some(planes_to_mono(decoded)));
        }
    }

    fn finish(&mut self, path: &Path) -> Result<Option<Vec<f32>>> {
        if !self.decoded_any {
            if let Some(detail) = self.last_error.take() {
                return Err(AudioError::NothingDecoded { path: path.into(), detail });
            }
        }
        Ok(None)
    }
}

/// librosa's `to_mono` (mean over channels) straight from symphonia's planar buffers: each
/// channel converted with symphonia's sample conversions and summed in channel order, then scaled
/// by `1 / channels`, the same arithmetic as the direct WAV reader (bit-identical, tested). Going
/// through an interleaved `SampleBuffer` first cost a copy and a conversion pass per packet.
fn planes_to_mono(decoded: AudioBufferRef<'_>) -> Vec<f32> {
    match decoded {
        AudioBufferRef::U8(b) => mono_of(&b),
        AudioBufferRef::U16(b) => mono_of(&b),
        AudioBufferRef::U24(b) => mono_of(&b),
        AudioBufferRef::U32(b) => mono_of(&b),
        AudioBufferRef::S8(b) => mono_of(&b),
        AudioBufferRef::S16(b) => mono_of(&b),
        AudioBufferRef::S24(b) => mono_of(&b),
        AudioBufferRef::S32(b) => mono_of(&b),
        AudioBufferRef::F32(b) => mono_of(&b),
        AudioBufferRef::F64(b) => mono_of(&b),
    }
}

fn mono_of<S: Sample>(buf: &AudioBuffer<S>) -> Vec<f32>
where
    f32: FromSample<S>,
{
    let channels = buf.spec().channels.count().max(1);
    let mut out: Vec<f32> = buf.chan(0).iter().map(|&s| f32::from_sample(s)).collect();
    for c in 1..channels {
        for (o, &s) in out.iter_mut().zip(buf.chan(c)) {
            *o += f32::from_sample(s);
        }
    }
    if channels > 1 {
        let scale = 1.0 / channels as f32;
        out.iter_mut().for_each(|v| *v *= scale);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::noise;
    use crate::wav::{write_wav, WavFormat};

    fn drain(mut next: impl FnMut() -> Result<Option<Vec<f32>>>) -> Vec<f32> {
        let mut all = Vec::new();
        while let Some(chunk) = next().unwrap() {
            all.extend(chunk);
        }
        all
    }

    /// The direct WAV reader returns exactly what symphonia decodes, for every encoding it takes,
    /// mono to 6 channels, from the start and after a seek.
    #[test]
    fn pcm_reader_matches_symphonia_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        for format in [WavFormat::Pcm8, WavFormat::Pcm16, WavFormat::Pcm24, WavFormat::Pcm32, WavFormat::Float32] {
            for channels in [1u16, 2, 6] {
                let path = dir.path().join(format!("{format:?}_{channels}.wav"));
                write_wav(&path, &noise(1.3, 16000 * channels as u32, 0.7, 3), 16000, channels, format).unwrap();
                for offset in [0.0, 0.55] {
                    let mut direct = Decoder::open(&path).unwrap();
                    assert!(matches!(direct.backend, Backend::Pcm(_)), "{format:?} takes the direct path");
                    direct.seek(offset).unwrap();
                    let file = File::open(&path).unwrap();
                    let (info, mut codec) = CodecStream::open(&path, file).unwrap();
                    assert_eq!((info.sample_rate, info.channels), (direct.info.sample_rate, direct.info.channels));
                    if offset > 0.0 {
                        codec.seek(offset, (offset * 16000.0).round() as u64);
                    }
                    let want = drain(|| codec.next_chunk(&path));
                    let got = drain(|| direct.next_chunk());
                    assert_eq!(got.len(), want.len(), "{format:?} x{channels} @{offset}");
                    assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "{format:?} x{channels}");
                }
            }
        }
    }
}
