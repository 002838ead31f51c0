//! The quiz: clips of a genre folder (`genre serve --quiz DIR`, one sub-folder per genre); the
//! person guesses, then the truth and the model's answer are shown.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const AUDIO: [&str; 6] = ["wav", "flac", "mp3", "ogg", "m4a", "aac"];

pub struct Quiz {
    /// (file, genre = its sub-folder under the quiz folder).
    pub clips: Vec<(PathBuf, String)>,
    /// The model's answers so far (file-level top 3), by clip.
    pub answers: Mutex<HashMap<usize, Vec<(String, f32)>>>,
}

impl Quiz {
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let mut clips = Vec::new();
        for e in walkdir::WalkDir::new(dir).min_depth(2).follow_links(true).sort_by_file_name() {
            let Ok(e) = e else { continue }; // unreadable entries are left out of the quiz
            let ext = e.path().extension().and_then(|x| x.to_str()).map(str::to_ascii_lowercase);
            if !e.file_type().is_file() || !ext.is_some_and(|x| AUDIO.contains(&x.as_str())) {
                continue;
            }
            let genre = e.path().strip_prefix(dir).ok().and_then(|r| r.components().next());
            if let Some(g) = genre {
                let g = g.as_os_str().to_string_lossy().into_owned();
                clips.push((e.path().to_path_buf(), g));
            }
        }
        if clips.is_empty() {
            return Err(std::io::Error::other(format!(
                "{}: no audio in genre sub-folders for the quiz",
                dir.display()
            )));
        }
        Ok(Self { clips, answers: Mutex::new(HashMap::new()) })
    }

    pub fn content_type(path: &Path) -> &'static str {
        match path.extension().and_then(|x| x.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("wav") => "audio/wav",
            Some("flac") => "audio/flac",
            Some("mp3") => "audio/mpeg",
            Some("ogg") => "audio/ogg",
            Some("m4a") | Some("aac") => "audio/mp4",
            _ => "application/octet-stream",
        }
    }
}
