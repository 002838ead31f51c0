//! The feature cache: computed once, keyed by parameters, bad files reported and skipped.

use genre_audio::synth::write_genre_folder;
use genre_data::{Dataset, FeatureCache, FeatureKind, FeatureSpec};

#[test]
fn cache_is_reused_keyed_by_parameters_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("music");
    write_genre_folder(&data, 2, 3, 2.0, 22050, 1).unwrap();
    std::fs::write(data.join("drone/broken.wav"), b"RIFF....garbage").unwrap();
    let ds = Dataset::open(&data).unwrap();
    let all: Vec<usize> = (0..ds.tracks.len()).collect();
    let spec = FeatureSpec::new(FeatureKind::Logmel, 1.0, 0.5);
    let cache = FeatureCache::open(&dir.path().join("cache"), &spec).unwrap();
    let (index, failures) = cache.build(&ds, &all, None, || {});
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(ds.tracks[failures[0].0].path.ends_with("broken.wav"));
    assert_eq!(index.entries.len(), 6);
    // 2 s clips, 1 s windows, 0.5 s hop -> 3 windows each, [128, 44] each.
    assert!(index.entries.iter().all(|e| e.n_windows == 3));
    assert_eq!(index.shape, [128, 44]);
    let mut w = vec![0f32; index.window_len()];
    index.read(2, 1, &mut w).unwrap();
    assert!(w.iter().all(|v| v.is_finite()) && w.iter().any(|&v| v != w[0]));

    // Second build reads the files back (same values), computing nothing new.
    let files_before = std::fs::read_dir(cache.dir()).unwrap().count();
    let (again, _) = cache.build(&ds, &all, None, || {});
    let mut w2 = vec![0f32; again.window_len()];
    again.read(2, 1, &mut w2).unwrap();
    assert_eq!(w, w2);
    assert_eq!(files_before, std::fs::read_dir(cache.dir()).unwrap().count());

    // A cache file damaged in place (same size) is noticed by its checksum and recomputed.
    let victim = std::fs::read_dir(cache.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "f32"))
        .unwrap();
    let mut bytes = std::fs::read(&victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&victim, &bytes).unwrap();
    let (_, failures) = cache.build(&ds, &all, None, || {});
    assert_eq!(failures.len(), 1, "only the broken audio fails");
    assert_ne!(std::fs::read(&victim).unwrap(), bytes, "the damaged file was recomputed");

    // Another parameter, another cache folder.
    let mut other = spec.clone();
    other.n_mels = 64;
    assert_ne!(other.key(), spec.key());
    let c2 = FeatureCache::open(&dir.path().join("cache"), &other).unwrap();
    assert_ne!(c2.dir(), cache.dir());
    let (idx2, _) = c2.build(&ds, &all[..2], None, || {});
    assert_eq!(idx2.shape, [64, 44]);
}
