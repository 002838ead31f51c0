//! Hostile headers: every field that would size an allocation or divide is checked, and the file
//! is refused with its name and the cause (never a panic, never a runaway allocation).

use genre_audio::{load, AudioStream, LoadOptions};
use genre_testkit::lying;

/// A 16-bit PCM WAV whose header says `rate` Hz and `channels` channels, with `frames` of data.
fn wav(rate: u32, channels: u16, frames: usize) -> Vec<u8> {
    let n = frames * channels.max(1) as usize;
    let data: Vec<u8> = (0..n).flat_map(|i| (((i % 200) as i16 - 100) * 50).to_le_bytes()).collect();
    lying::wav(rate, channels, 16, None, &data)
}

#[test]
fn absurd_sample_rates_and_channel_counts_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for (name, rate, ch) in
        [("rate0.wav", 0, 1), ("rate1.wav", 1, 1), ("ratemax.wav", u32::MAX, 1), ("ch0.wav", 22050, 0)]
    {
        let p = dir.path().join(name);
        std::fs::write(&p, wav(rate, ch, 4000)).unwrap();
        let err = load(&p, LoadOptions::default()).expect_err(name).to_string();
        println!("{name}: {err}");
        assert!(err.contains(name), "{err}");
        assert!(err.contains("sample rate") || err.contains("channels") || err.contains("format"), "{err}");
    }
    // A sane header still decodes.
    let ok = dir.path().join("ok.wav");
    std::fs::write(&ok, wav(8000, 2, 4000)).unwrap();
    assert_eq!(load(&ok, LoadOptions::native_rate()).unwrap().samples.len(), 4000);
}

/// A length claimed by a header sizes nothing: an MP3 whose Xing tag claims 4 billion frames
/// (about 31 hours) is read as the 40 frames it holds.
#[test]
fn a_claimed_length_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("claims.mp3");
    std::fs::write(&p, lying::mp3(u32::MAX, 40)).unwrap();
    let stream = AudioStream::open(&p, LoadOptions::native_rate()).unwrap();
    // The claim is there to be (mis)trusted...
    assert_eq!(stream.source_info().n_frames, Some(u32::MAX as u64 * lying::MP3_FRAME_SAMPLES));
    // ...and the samples are what the file holds (the decoder's delay trimmed).
    let n = stream.read_to_end().unwrap().samples.len() as u64;
    assert!(n > 30 * lying::MP3_FRAME_SAMPLES && n <= 40 * lying::MP3_FRAME_SAMPLES, "{n}");
}
