//! `--write-tags`: each track's genre written into the file's own tags, where players, beets
//! and Picard read it: ID3v2 TCON (mp3, wav), Vorbis comment GENRE (flac, ogg), MP4 ilst
//! `©gen` (m4a). lofty rewrites the tag block only; the audio frames are copied untouched.
//!
//! The file is tagged as a copy beside it, then renamed over it: a kill mid-write leaves the
//! original whole (and a stray `.genre-tagging` copy), never a half-written file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lofty::config::WriteOptions;
use lofty::prelude::*;
use lofty::probe::Probe;
use lofty::tag::{Tag, TagType};

/// Which tag `path` would get, in words ("ID3v2 TCON"), and the genre it holds now.
pub fn plan(path: &Path) -> Result<(String, Option<String>)> {
    let file = Probe::open(path)?.guess_file_type()?.read().context("reading the tags")?;
    let kind = tag_name(file.primary_tag_type());
    let now = file.primary_tag().and_then(|t| t.genre().map(|g| g.into_owned()));
    Ok((kind.to_string(), now))
}

fn tag_name(t: TagType) -> &'static str {
    match t {
        TagType::Id3v2 => "ID3v2 TCON",
        TagType::VorbisComments => "Vorbis comment GENRE",
        TagType::Mp4Ilst => "MP4 ilst ©gen",
        TagType::RiffInfo => "RIFF INFO IGNR",
        TagType::Ape => "APE Genre",
        TagType::AiffText => "AIFF text",
        TagType::Id3v1 => "ID3v1 genre",
        _ => "tag",
    }
}

/// Write `genre` into `path`'s primary tag (created if the file has none).
pub fn write_genre(path: &Path, genre: &str) -> Result<()> {
    let tmp = PathBuf::from(format!("{}.genre-tagging", path.display()));
    let result = (|| -> Result<()> {
        std::fs::copy(path, &tmp).context("copying the file to tag it")?;
        let mut file = Probe::open(&tmp)?.guess_file_type()?.read().context("reading the tags")?;
        let kind = file.primary_tag_type();
        if file.primary_tag_mut().is_none() {
            file.insert_tag(Tag::new(kind));
        }
        file.primary_tag_mut().expect("inserted").set_genre(genre.to_string());
        file.save_to_path(&tmp, WriteOptions::default()).context("writing the tags")?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, path).context("replacing the file")?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
