//! The streaming path yields exactly the frames of the whole-signal path, whatever the chunking.

use genre_audio::synth::genre_clip;
use genre_features::feature::{mel_projector, melspectrogram, MelSpecParams};
use genre_features::stream::FrameStream;

#[test]
fn streamed_mel_frames_equal_whole_signal_mel() {
    let y = genre_clip(2, 3.3, 22050, 9);
    let p = MelSpecParams::default();
    let whole = melspectrogram(&y, &p).unwrap();
    for chunk in [1usize, 100, 511, 512, 4096, 22050, 1 << 20] {
        let (n_mels, project) = mel_projector(&p);
        let mut s = FrameStream::new(p.stft, n_mels, project).unwrap();
        let mut frames = Vec::new();
        for c in y.chunks(chunk) {
            frames.extend(s.push(c).unwrap());
        }
        frames.extend(s.finish().unwrap());
        assert_eq!(frames.len(), whole.rows * whole.cols, "chunk {chunk}: frame count");
        let t = whole.transpose();
        let max_err = frames.iter().zip(&t.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(max_err <= 1e-6 * whole.max(), "chunk {chunk}: max error {max_err}");
    }
}

#[test]
fn short_and_empty_streams() {
    let p = MelSpecParams::default();
    let (n_mels, project) = mel_projector(&p);
    let mut s = FrameStream::new(p.stft, n_mels, project).unwrap();
    assert!(s.finish().is_err(), "an empty stream is an error, not zero frames");
    let (n_mels, project) = mel_projector(&p);
    let mut s = FrameStream::new(p.stft, n_mels, project).unwrap();
    let mut n = s.push(&[0.1; 100]).unwrap().len();
    n += s.finish().unwrap().len();
    assert_eq!(n / n_mels, 1, "100 samples give 1 + 100/512 = 1 frame");
}
