//! Splits never leak: no file and no group (album/artist) on two sides; list splits follow the
//! lists; manifests parse single- and multi-label rows.

use std::collections::{HashMap, HashSet};

use genre_data::{Dataset, Split, SplitKind};

/// A manifest of `rows`, with (empty) files for its paths: manifests name files that exist.
fn manifest(dir: &std::path::Path, rows: &[&str]) -> Dataset {
    for r in rows {
        let f = dir.join(r.split(',').next().unwrap());
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, b"").unwrap();
    }
    let p = dir.join("m.csv");
    std::fs::write(&p, format!("path,labels,group\n{}", rows.join("\n"))).unwrap();
    Dataset::open(&p).unwrap()
}

fn albums_dataset(dir: &std::path::Path) -> Dataset {
    // 3 genres x 6 albums x 4 songs: songs of an album must stay together.
    let mut rows = Vec::new();
    for g in ["jazz", "rock", "pop"] {
        for a in 0..6 {
            for s in 0..4 {
                rows.push(format!("{g}/{a}/{s}.wav,{g},{g}-album{a}"));
            }
        }
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    manifest(dir, &refs)
}

#[test]
fn grouped_split_keeps_albums_together_and_every_genre_on_every_side() {
    let dir = tempfile::tempdir().unwrap();
    let ds = albums_dataset(dir.path());
    for seed in 0..20 {
        let s = Split::grouped(&ds, 0.2, 0.2, seed).unwrap();
        assert_eq!(s.kind, SplitKind::Grouped);
        let mut side_of: HashMap<&str, usize> = HashMap::new();
        for (k, side) in [&s.train, &s.valid, &s.test].iter().enumerate() {
            for &i in side.iter() {
                let g = ds.tracks[i].group.as_str();
                assert_eq!(*side_of.entry(g).or_insert(k), k, "seed {seed}: album {g} on two sides");
            }
            let genres: HashSet<usize> = side.iter().map(|&i| ds.tracks[i].labels[0]).collect();
            assert_eq!(genres.len(), 3, "seed {seed}: side {k} misses a genre");
        }
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), ds.tracks.len());
    }
    // Different seeds give different splits; the same seed the same one.
    assert_ne!(Split::grouped(&ds, 0.2, 0.2, 1).unwrap(), Split::grouped(&ds, 0.2, 0.2, 2).unwrap());
    assert_eq!(Split::grouped(&ds, 0.2, 0.2, 1).unwrap(), Split::grouped(&ds, 0.2, 0.2, 1).unwrap());
}

#[test]
fn a_leaky_split_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let ds = albums_dataset(dir.path());
    let mut s = Split::grouped(&ds, 0.2, 0.2, 3).unwrap();
    // Move one song of a validation album to train: the album is now on two sides.
    let moved = s.valid.pop().unwrap();
    s.train.push(moved);
    let err = s.check(&ds).unwrap_err().to_string();
    assert!(err.contains("leak") && err.contains("album"), "{err}");
    // The same file on two sides.
    let mut s = Split::grouped(&ds, 0.2, 0.2, 3).unwrap();
    s.test.push(s.train[0]);
    assert!(s.check(&ds).unwrap_err().to_string().contains("leak"));
}

#[test]
fn list_split_follows_the_lists() {
    let dir = tempfile::tempdir().unwrap();
    let ds = manifest(dir.path(), &["a/x1.wav,a,", "a/x2.wav,a,", "b/y1.wav,b,", "b/y2.wav,b,", "b/y3.wav,b,"]);
    std::fs::write(dir.path().join("train.txt"), "a/x1.wav\nb/y1.wav\nb/y3.wav\n").unwrap();
    std::fs::write(dir.path().join("valid.txt"), "a/x2.wav\nb/y2.wav\n").unwrap();
    let s = Split::from_lists(&ds, &dir.path().join("train.txt"), &dir.path().join("valid.txt"), None).unwrap();
    assert_eq!(s.kind, SplitKind::List);
    let stems = |ids: &[usize]| ids.iter().map(|&i| ds.tracks[i].stem()).collect::<Vec<_>>();
    assert_eq!(stems(&s.train), ["x1", "y1", "y3"]);
    assert_eq!(stems(&s.valid), ["x2", "y2"]);
    // Lists that name nothing present are an error, not an empty split.
    std::fs::write(dir.path().join("none.txt"), "zzz.wav\n").unwrap();
    assert!(Split::from_lists(&ds, &dir.path().join("none.txt"), &dir.path().join("valid.txt"), None).is_err());
}

#[test]
fn manifests_with_several_labels_are_multi_label() {
    let dir = tempfile::tempdir().unwrap();
    let ds = manifest(dir.path(), &["1.wav,rock|pop,", "2.wav,jazz,", "3.wav, pop ,"]);
    assert!(ds.multi_label);
    assert_eq!(ds.classes, ["jazz", "pop", "rock"]);
    assert_eq!(ds.tracks[0].labels, [2, 1]);
    assert_eq!(ds.tracks[2].labels, [1]);
    // Without a group column each file is its own group.
    assert_ne!(ds.tracks[0].group, ds.tracks[1].group);
    let single = manifest(dir.path(), &["1.wav,rock,", "2.wav,jazz,"]);
    assert!(!single.multi_label);
}

#[test]
fn gtzan_feature_table_loads_as_a_dataset() {
    let table =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/gtzan/features_30_sec.csv");
    let ds = Dataset::open(&table).expect("shared GTZAN table");
    assert_eq!(ds.classes.len(), 10);
    assert_eq!(ds.tracks.len(), 640);
    assert_eq!(ds.feature_names.len(), 57);
    assert!(ds.tracks.iter().all(|t| t.features.as_ref().is_some_and(|f| f.len() == 57)));
}
