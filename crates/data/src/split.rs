//! Train/valid/test splits that never leak: a file's windows, and a group's files (album,
//! artist), always land on one side.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{io_err, DataError, Dataset, Result};

/// How a split was made; printed beside every score, because it changes what a score means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitKind {
    /// From list files (e.g. GTZAN's artist-filtered "fault-filtered" partitions).
    List,
    /// Automatic, stratified by genre, grouped by album/artist/file.
    Grouped,
}

impl std::fmt::Display for SplitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SplitKind::List => "list split",
            SplitKind::Grouped => "grouped split",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub kind: SplitKind,
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

/// Entries of a list file: one path per line ("blues/blues.00001.wav"), matched by file stem.
fn read_list(path: &Path) -> Result<HashSet<String>> {
    let text = genre_fsio::read_text(path, genre_fsio::TEXT_CAP).map_err(io_err(path))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| Path::new(l).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
        .collect())
}

impl Split {
    /// From list files; tracks in no list are left out. Fails if a list names nothing present.
    pub fn from_lists(ds: &Dataset, train: &Path, valid: &Path, test: Option<&Path>) -> Result<Self> {
        let (tr, va) = (read_list(train)?, read_list(valid)?);
        let te = test.map(read_list).transpose()?.unwrap_or_default();
        let mut s = Split { kind: SplitKind::List, train: vec![], valid: vec![], test: vec![] };
        for (i, t) in ds.tracks.iter().enumerate() {
            let stem = t.stem();
            if tr.contains(&stem) {
                s.train.push(i);
            } else if va.contains(&stem) {
                s.valid.push(i);
            } else if te.contains(&stem) {
                s.test.push(i);
            }
        }
        if s.train.is_empty() || s.valid.is_empty() {
            return Err(DataError::Invalid(format!(
                "split lists matched {} train and {} valid tracks: check that the lists name these files",
                s.train.len(),
                s.valid.len()
            )));
        }
        s.check(ds)?;
        Ok(s)
    }

    /// Stratified by each group's first label, grouped: whole groups go to test, valid or train
    /// so that each genre gets about `valid_frac` / `test_frac` of its groups (at least one each
    /// when it has three or more groups).
    pub fn grouped(ds: &Dataset, valid_frac: f64, test_frac: f64, seed: u64) -> Result<Self> {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, t) in ds.tracks.iter().enumerate() {
            groups.entry(t.group.as_str()).or_default().push(i);
        }
        let mut by_class: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for (g, members) in &groups {
            let label = ds.tracks[members[0]].labels.first().copied().unwrap_or(0);
            by_class.entry(label).or_default().push(g);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut s = Split { kind: SplitKind::Grouped, train: vec![], valid: vec![], test: vec![] };
        for (_, mut gs) in by_class {
            gs.shuffle(&mut rng);
            let n = gs.len();
            let at_least = |frac: f64| {
                if n >= 3 && frac > 0.0 {
                    ((n as f64 * frac).round() as usize).max(1)
                } else {
                    (n as f64 * frac).round() as usize
                }
            };
            let n_test = at_least(test_frac);
            let n_valid = at_least(valid_frac).min(n - n_test);
            for (k, g) in gs.into_iter().enumerate() {
                let side = if k < n_test {
                    &mut s.test
                } else if k < n_test + n_valid {
                    &mut s.valid
                } else {
                    &mut s.train
                };
                side.extend(&groups[g]);
            }
        }
        for v in [&mut s.train, &mut s.valid, &mut s.test] {
            v.sort_unstable();
        }
        s.check(ds)?;
        Ok(s)
    }

    /// No track on two sides, no group on two sides.
    pub fn check(&self, ds: &Dataset) -> Result<()> {
        let mut side_of_track: HashMap<usize, &str> = HashMap::new();
        let mut side_of_group: HashMap<&str, &str> = HashMap::new();
        for (name, side) in [("train", &self.train), ("valid", &self.valid), ("test", &self.test)] {
            for &i in side {
                if let Some(prev) = side_of_track.insert(i, name) {
                    return Err(DataError::Invalid(format!(
                        "leak: {} is in {prev} and {name}",
                        ds.tracks[i].path.display()
                    )));
                }
                let g = ds.tracks[i].group.as_str();
                if let Some(prev) = side_of_group.insert(g, name) {
                    if prev != name {
                        return Err(DataError::Invalid(format!("leak: group '{g}' is in {prev} and {name}")));
                    }
                }
            }
        }
        Ok(())
    }
}
