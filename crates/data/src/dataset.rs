//! Where tracks and their labels come from.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::{io_err, DataError, Result};

/// One piece of music and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub path: PathBuf,
    /// Class indices (one for single-label data, any number for tagging).
    pub labels: Vec<usize>,
    /// Files of one group (album, artist, or the file itself) always stay on one side of a split.
    pub group: String,
    /// Precomputed features (rows of a feature table); `None` for audio tracks.
    pub features: Option<Vec<f32>>,
}

impl Track {
    /// File stem, the key split lists use ("blues.00001" for ".../blues.00001.wav").
    pub fn stem(&self) -> String {
        self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub classes: Vec<String>,
    pub tracks: Vec<Track>,
    pub multi_label: bool,
    /// Names of the precomputed feature columns (feature tables only).
    pub feature_names: Vec<String>,
}

/// Longest label (genre or tag name) accepted: labels become picture rows and card entries.
pub const MAX_LABEL_CHARS: usize = 100;
/// Longest line of a manifest or table (a path, its labels and group fit many times over).
pub const MAX_LINE_BYTES: usize = 64 << 10;

/// Every line under [`MAX_LINE_BYTES`], or the first that is not.
fn check_line_lengths(text: &str) -> std::result::Result<(), String> {
    match text.lines().position(|l| l.len() > MAX_LINE_BYTES) {
        Some(i) => Err(format!("line {}: longer than {MAX_LINE_BYTES} bytes", i + 1)),
        None => Ok(()),
    }
}

/// A feature table's header: no column twice, and a GTZAN-style table (any GTZAN-57 column
/// name) holds all 57, or the model it trains could not be fed by genre's own features.
fn check_table_header(header: &[String]) -> std::result::Result<(), String> {
    let mut seen = BTreeSet::new();
    if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
        return Err(format!("column '{dup}' appears twice in the header"));
    }
    let gtzan = genre_features::gtzan::gtzan57_names();
    if header.iter().any(|h| gtzan.contains(h)) {
        let missing: Vec<&String> = gtzan.iter().filter(|g| !seen.contains(g.as_str())).collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            return Err(format!("a GTZAN-57 table lacks {} column(s): {}", missing.len(), names.join(", ")));
        }
    }
    Ok(())
}

const AUDIO_EXT: [&str; 7] = ["wav", "flac", "mp3", "ogg", "oga", "m4a", "aac"];

impl Dataset {
    /// A folder (one sub-folder per genre), a manifest `.csv` (`path,labels[,group]`) or a
    /// feature table `.csv` (GTZAN's `features_30_sec.csv` layout: `filename,...,label`).
    pub fn open(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Self::from_folder(path);
        }
        let text = genre_fsio::read_text(path, genre_fsio::TEXT_CAP).map_err(io_err(path))?;
        let header = text.lines().next().unwrap_or("");
        if header.starts_with("filename,") && header.trim_end().ends_with(",label") {
            Self::feature_table_from_text(&text, path)
        } else {
            Self::manifest_from_text(&text, path)
        }
    }

    pub fn from_folder(root: &Path) -> Result<Self> {
        let mut classes: Vec<String> = std::fs::read_dir(root)
            .map_err(io_err(root))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        classes.sort();
        if classes.is_empty() {
            return Err(DataError::Invalid(format!("{}: no genre sub-folders", root.display())));
        }
        let mut tracks = Vec::new();
        for (ci, c) in classes.iter().enumerate() {
            let mut files = Vec::new();
            collect_audio(&root.join(c), &mut files)?;
            for f in files {
                let group = f.to_string_lossy().into_owned();
                tracks.push(Track { path: f, labels: vec![ci], group, features: None });
            }
        }
        Ok(Self { classes, tracks, multi_label: false, feature_names: Vec::new() })
    }

    /// `path,labels[,group]` with a header line; paths relative to the manifest's folder; labels
    /// separated by `|` (any row with two labels makes the data set multi-label).
    pub fn from_manifest(csv_path: &Path) -> Result<Self> {
        let text = genre_fsio::read_text(csv_path, genre_fsio::TEXT_CAP).map_err(io_err(csv_path))?;
        Self::manifest_from_text(&text, csv_path)
    }

    fn manifest_from_text(text: &str, csv_path: &Path) -> Result<Self> {
        let base = csv_path.parent().unwrap_or(Path::new("."));
        let invalid = |msg: String| DataError::Invalid(format!("{}: {msg}", csv_path.display()));
        check_line_lengths(text).map_err(invalid)?;
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let mut rows = Vec::new();
        let mut names = BTreeSet::new();
        let mut seen = std::collections::HashMap::new();
        let mut problems = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| invalid(e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            // A stray quote makes the CSV reader swallow the following lines into one field.
            if rec.iter().any(|f| f.contains(['\n', '\r'])) {
                problems.push(format!("line {line}: a quote opened on this line is not closed before the line ends"));
                continue;
            }
            let (Some(p), Some(l)) = (rec.get(0), rec.get(1)) else {
                problems.push(format!("line {line}: need path,labels"));
                continue;
            };
            let labels: Vec<String> = l.split('|').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            if labels.is_empty() {
                problems.push(format!("line {line}: {p}: no label"));
                continue;
            }
            if let Some(long) = labels.iter().find(|l| l.chars().count() > MAX_LABEL_CHARS) {
                let head: String = long.chars().take(40).collect();
                problems.push(format!("line {line}: label '{head}...' is longer than {MAX_LABEL_CHARS} characters"));
                continue;
            }
            let path = base.join(p);
            if let Some(first) = seen.insert(path.clone(), line) {
                problems.push(format!("line {line}: {p} is already listed on line {first}"));
                continue;
            }
            if !path.is_file() {
                problems.push(format!("line {line}: {}: no such file", path.display()));
                continue;
            }
            names.extend(labels.iter().cloned());
            let group = rec
                .get(2)
                .filter(|g| !g.is_empty())
                .map(String::from)
                .unwrap_or_else(|| path.to_string_lossy().into_owned());
            rows.push((path, labels, group));
        }
        // Every problem at once, with its line: fixing a manifest one error per run is no fun.
        if !problems.is_empty() {
            let shown: Vec<String> = problems.iter().take(20).cloned().collect();
            let more =
                if problems.len() > 20 { format!("\n  ... and {} more", problems.len() - 20) } else { String::new() };
            return Err(DataError::Invalid(format!("{}:\n  {}{more}", csv_path.display(), shown.join("\n  "))));
        }
        let classes: Vec<String> = names.into_iter().collect();
        let multi_label = rows.iter().any(|r| r.1.len() != 1);
        if !multi_label && classes.len() < 2 {
            return Err(DataError::Invalid(format!(
                "{}: one class ({}) is nothing to tell apart: a genre model needs two or more",
                csv_path.display(),
                classes.join(", ")
            )));
        }
        let tracks = rows
            .into_iter()
            .map(|(path, labels, group)| Track {
                path,
                labels: labels.iter().map(|l| classes.iter().position(|c| c == l).expect("collected")).collect(),
                group,
                features: None,
            })
            .collect();
        Ok(Self { classes, tracks, multi_label, feature_names: Vec::new() })
    }

    /// A feature table: `filename,length,<features...>,label`; every numeric column except
    /// `length` is a feature.
    pub fn from_feature_table(csv_path: &Path) -> Result<Self> {
        let text = genre_fsio::read_text(csv_path, genre_fsio::TEXT_CAP).map_err(io_err(csv_path))?;
        Self::feature_table_from_text(&text, csv_path)
    }

    fn feature_table_from_text(text: &str, csv_path: &Path) -> Result<Self> {
        let invalid = |msg: String| DataError::Invalid(format!("{}: {msg}", csv_path.display()));
        check_line_lengths(text).map_err(invalid)?;
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = rdr.headers().map_err(|e| invalid(e.to_string()))?.iter().map(String::from).collect();
        check_table_header(&header).map_err(invalid)?;
        let feat_cols: Vec<usize> =
            (0..header.len()).filter(|&i| !matches!(header[i].as_str(), "filename" | "length" | "label")).collect();
        let label_col = header.iter().position(|h| h == "label").ok_or_else(|| invalid("no label column".into()))?;
        let mut rows = Vec::new();
        let mut names = BTreeSet::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| invalid(e.to_string()))?;
            let row = rec.position().map_or(0, |p| p.line());
            let feats: Vec<f32> = feat_cols
                .iter()
                .map(|&c| match rec[c].trim().parse::<f32>() {
                    // 1e308 parses to f32 infinity: as unusable as "inf" itself.
                    Ok(v) if v.is_finite() => Ok(v),
                    Ok(_) => {
                        Err(invalid(format!("row {row}: column {} is not a finite number ({})", header[c], &rec[c])))
                    }
                    Err(_) => Err(invalid(format!("row {row}: column {} is not a number", header[c]))),
                })
                .collect::<Result<_>>()?;
            let label = rec[label_col].to_string();
            if label.chars().count() > MAX_LABEL_CHARS {
                return Err(invalid(format!("row {row}: the label is longer than {MAX_LABEL_CHARS} characters")));
            }
            names.insert(label.clone());
            rows.push((PathBuf::from(&rec[0]), label, feats));
        }
        let classes: Vec<String> = names.into_iter().collect();
        let tracks = rows
            .into_iter()
            .map(|(path, label, feats)| Track {
                group: path.to_string_lossy().into_owned(),
                labels: vec![classes.iter().position(|c| *c == label).expect("collected")],
                path,
                features: Some(feats),
            })
            .collect();
        Ok(Self {
            classes,
            tracks,
            multi_label: false,
            feature_names: feat_cols.iter().map(|&c| header[c].clone()).collect(),
        })
    }

    /// Tracks per class (a track counts once for each of its labels).
    pub fn class_counts(&self, indices: &[usize]) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &i in indices {
            for &l in &self.tracks[i].labels {
                counts[l] += 1;
            }
        }
        counts
    }
}

fn collect_audio(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(io_err(dir))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_audio(&p, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXT.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(p);
        }
    }
    Ok(())
}
