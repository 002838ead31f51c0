//! The quiz: clips of a genre folder (`genre serve --quiz DIR`, one sub-folder per genre); the
//! person guesses, then the truth and the model's answer are shown. Clips the model was trained
//! on (their content hashes are in its card) are left out: the model would be judged on music
//! it has already heard, and "Model N" would mean nothing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const AUDIO: [&str; 6] = ["wav", "flac", "mp3", "ogg", "m4a", "aac"];
/// Served clip ids remembered at most; past it the oldest is forgotten (its answer gets 404),
/// so asking for clips without end costs bounded memory (about 100 bytes an id).
pub const MAX_SERVED: usize = 4096;

pub struct Quiz {
    /// (file, genre = its sub-folder under the quiz folder).
    pub clips: Vec<(PathBuf, String)>,
    /// Clips of the folder left out because the model was trained on them.
    pub left_out: usize,
    /// The model's answers so far (file-level top 3), by clip.
    pub answers: Mutex<HashMap<usize, Vec<(String, f32)>>>,
    served: Mutex<Served>,
}

/// Clips handed out, by opaque id: the id says nothing about the clip (a folder-order index
/// would give the genre away), and only a served id, once, can be answered.
#[derive(Default)]
struct Served {
    clip: HashMap<String, (usize, bool)>, // id -> (clip, answered)
    order: VecDeque<String>,              // oldest first
}

/// Why an answer is refused.
pub enum Refused {
    Unknown,
    Answered,
}

impl Quiz {
    /// The quiz of `dir`, without the files whose content hash is in `heard`.
    pub fn open(dir: &Path, heard: &HashSet<String>) -> std::io::Result<Self> {
        let mut clips = Vec::new();
        let mut left_out = 0;
        for e in walkdir::WalkDir::new(dir).min_depth(2).follow_links(true).sort_by_file_name() {
            let Ok(e) = e else { continue }; // unreadable entries are left out of the quiz
            let ext = e.path().extension().and_then(|x| x.to_str()).map(str::to_ascii_lowercase);
            if !e.file_type().is_file() || !ext.is_some_and(|x| AUDIO.contains(&x.as_str())) {
                continue;
            }
            let genre = e.path().strip_prefix(dir).ok().and_then(|r| r.components().next());
            let Some(g) = genre else { continue };
            if !heard.is_empty() && genre_data::hash::file_hash(e.path()).is_ok_and(|h| heard.contains(&h)) {
                left_out += 1;
                continue;
            }
            clips.push((e.path().to_path_buf(), g.as_os_str().to_string_lossy().into_owned()));
        }
        if clips.is_empty() && left_out > 0 {
            return Err(std::io::Error::other(format!(
                "{}: all {left_out} clips were in the model's training data (its card lists their hashes): \
                 the model would be judged on music it has heard; point --quiz at other music",
                dir.display()
            )));
        }
        if clips.is_empty() {
            return Err(std::io::Error::other(format!(
                "{}: no audio in genre sub-folders for the quiz",
                dir.display()
            )));
        }
        Ok(Self { clips, left_out, answers: Mutex::new(HashMap::new()), served: Mutex::default() })
    }

    /// Serve a random clip: a fresh random 128-bit id for it.
    pub fn serve_one(&self) -> String {
        let id = format!("{:032x}", rand::random::<u128>());
        let clip = rand::random::<usize>() % self.clips.len();
        let mut s = self.served.lock().expect("quiz ids");
        s.clip.insert(id.clone(), (clip, false));
        s.order.push_back(id.clone());
        while s.order.len() > MAX_SERVED {
            let old = s.order.pop_front().expect("not empty");
            s.clip.remove(&old);
        }
        id
    }

    /// The clip behind a served id.
    pub fn clip_of(&self, id: &str) -> Option<usize> {
        self.served.lock().expect("quiz ids").clip.get(id).map(|c| c.0)
    }

    /// Take the one answer a served id allows: its clip.
    pub fn begin_answer(&self, id: &str) -> Result<usize, Refused> {
        match self.served.lock().expect("quiz ids").clip.get_mut(id) {
            None => Err(Refused::Unknown),
            Some((_, true)) => Err(Refused::Answered),
            Some((clip, answered)) => {
                *answered = true;
                Ok(*clip)
            }
        }
    }

    /// The answer could not be judged (server busy, client gone): the id may be answered again.
    pub fn undo_answer(&self, id: &str) {
        if let Some(c) = self.served.lock().expect("quiz ids").clip.get_mut(id) {
            c.1 = false;
        }
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
