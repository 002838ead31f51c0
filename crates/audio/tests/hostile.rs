//! Hostile headers: every field that would size an allocation or divide is checked, and the file
//! is refused with its name and the cause (never a panic, never a runaway allocation).

use genre_audio::{load, LoadOptions};

/// A 16-bit PCM WAV whose header says `rate` Hz and `channels` channels, with `frames` of data.
fn wav(rate: u32, channels: u16, frames: usize) -> Vec<u8> {
    let data_len = frames * channels.max(1) as usize * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.wrapping_mul(2 * channels as u32).to_le_bytes());
    b.extend_from_slice(&(2 * channels).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data_len as u32).to_le_bytes());
    b.extend((0..data_len / 2).flat_map(|i| (((i % 200) as i16 - 100) * 50).to_le_bytes()));
    b
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
