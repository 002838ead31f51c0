//! Opening files named from outside (audio, manifests, tables, split lists, model cards,
//! weights, checkpoints) the one safe way:
//! - only regular files: a FIFO would block the open forever, `/dev/zero` reads without end, a
//!   folder fails late with a misleading cause. The type is checked on the path first (no
//!   open that could block) and again on the opened handle (a file swapped in between);
//! - reads capped at a stated size: no text input (a 1 GB "manifest line", `/dev/zero` as a
//!   table) can make genre allocate without bound.
//!
//! Errors are `std::io::Error`s (kind `InvalidInput` for the wrong type of file, `InvalidData`
//! past the cap) whose text says what the file is and what the limit was; callers add the path.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Cap of a text input (manifest, feature table, split list): 256 MiB holds a manifest of
/// millions of tracks, and refuses `/dev/zero` or a runaway file long before memory runs out.
pub const TEXT_CAP: u64 = 256 << 20;
/// Cap of a small JSON document (model card, ensemble, run state): 16 MiB.
pub const JSON_CAP: u64 = 16 << 20;

/// What kind of file `m` is, in words ("a FIFO", "a folder", ...), `None` for a regular file.
fn not_regular(m: &Metadata) -> Option<&'static str> {
    let t = m.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_socket() {
            return Some("a socket");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
    }
    Some("not a regular file")
}

fn refuse(kind: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{kind}, not a regular file: refused"))
}

/// Open `path` for reading if it is a regular file (links followed); anything else is refused
/// without blocking.
pub fn open_regular(path: &Path) -> io::Result<File> {
    if let Some(kind) = not_regular(&std::fs::metadata(path)?) {
        return Err(refuse(kind));
    }
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        // A FIFO swapped in after the check must not block the open either.
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path)?;
    if let Some(kind) = not_regular(&file.metadata()?) {
        return Err(refuse(kind));
    }
    Ok(file)
}

/// `path`'s bytes, refused past `cap` bytes (without reading more than `cap + 1`).
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > cap {
        return Err(too_big(len, cap));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // The file may grow after the size check: read at most one byte past the cap to notice.
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_big(bytes.len() as u64, cap));
    }
    Ok(bytes)
}

/// `path` as UTF-8 text, refused past `cap` bytes.
pub fn read_text(path: &Path, cap: u64) -> io::Result<String> {
    String::from_utf8(read_capped(path, cap)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text ({e})")))
}

fn too_big(len: u64, cap: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{len} bytes or more, over the limit of {cap} bytes for this input"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "hello").unwrap();
        assert_eq!(read_text(&p, 5).unwrap(), "hello");
        let e = read_text(&p, 4).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("limit of 4 bytes"), "{e}");
    }

    #[test]
    fn folders_and_devices_are_refused_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_regular(dir.path()).unwrap_err();
        assert!(e.to_string().contains("a folder"), "{e}");
        #[cfg(unix)]
        {
            let e = read_text(Path::new("/dev/zero"), TEXT_CAP).unwrap_err();
            assert!(e.to_string().contains("character device"), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pipe");
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer ever opens it: a plain open would block this test forever.
        let e = open_regular(&p).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
    }
}
