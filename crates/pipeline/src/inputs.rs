//! Turning command-line paths (files and folders) into the list of audio files to process.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// Extensions treated as audio when walking folders (files named explicitly are always tried).
pub const AUDIO_EXTENSIONS: [&str; 8] = ["wav", "flac", "mp3", "ogg", "oga", "m4a", "aac", "mp4"];

pub fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The files to process, and the entries that could not be read (each "path: cause").
pub struct Inputs {
    pub files: Vec<PathBuf>,
    pub errors: Vec<String>,
}

impl Inputs {
    /// Inputs in all, for "N of TOTAL files failed": the files plus the entries that could not
    /// be read.
    pub fn total(&self) -> usize {
        self.files.len() + self.errors.len()
    }
}

/// Expand folders recursively (sorted, so runs are reproducible; symbolic links followed with
/// loop detection; a file reached twice is processed once); keep files as given. An unreadable
/// folder or a link loop is reported and the rest is still walked.
pub fn expand(paths: &[PathBuf]) -> Inputs {
    let mut out = Inputs { files: Vec::new(), errors: Vec::new() };
    let mut seen = HashSet::new();
    for p in paths {
        if !p.is_dir() {
            out.files.push(p.clone());
            continue;
        }
        for entry in WalkDir::new(p).follow_links(true).sort_by_file_name() {
            match entry {
                Ok(e) if e.file_type().is_file() && is_audio(e.path()) => {
                    let key = std::fs::canonicalize(e.path()).unwrap_or_else(|_| e.path().to_path_buf());
                    if seen.insert(key) {
                        out.files.push(e.into_path());
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    let at = err.path().unwrap_or(p).display().to_string();
                    let why = if err.loop_ancestor().is_some() {
                        "symbolic link loop (not followed)".to_string()
                    } else {
                        err.io_error().map(|e| e.to_string()).unwrap_or_else(|| err.to_string())
                    };
                    out.errors.push(format!("{at}: {why}"));
                }
            }
        }
    }
    out
}

/// "file: cause", unless the cause already starts with the file's name (most errors do).
pub fn named(f: &Path, cause: String) -> String {
    let name = f.display().to_string();
    if cause.starts_with(&name) {
        cause
    } else {
        format!("{name}: {cause}")
    }
}
