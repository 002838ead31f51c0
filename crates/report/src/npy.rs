//! NumPy `.npy` files (format 1.0), f32 little-endian.
//!
//! Written by hand: the format is a 10-byte preamble and a Python-dict header, and the crates that
//! write it pull in a full n-d array library. The streaming writer stores a `[rows, cols]` array
//! column by column in Fortran order, so a spectrogram of any length is written frame by frame
//! without holding it in memory; numpy reads it as the same `[band, frame]` array.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Header length including the preamble; fixed so that the streaming writer can rewrite the
/// shape in place once the number of columns is known.
const HEADER_LEN: usize = 128;

fn header(shape: &[usize], fortran: bool) -> Vec<u8> {
    let dims = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let dict =
        format!("{{'descr': '<f4', 'fortran_order': {}, 'shape': {dims}, }}", if fortran { "True" } else { "False" });
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(b"\x93NUMPY\x01\x00");
    h.extend_from_slice(&((HEADER_LEN - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(HEADER_LEN - 1, b' ');
    h.push(b'\n');
    h
}

fn write_f32s(w: &mut impl Write, data: &[f32]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(data.len() * 4);
    for v in data {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    w.write_all(&buf)
}

/// Write a C-order array of the given shape.
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> std::io::Result<()> {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "npy shape and data disagree");
    let mut w = BufWriter::new(File::create(path)?);
    w.write_all(&header(shape, false))?;
    write_f32s(&mut w, data)?;
    w.flush()
}

/// Read an f32 `.npy` written by [`write_npy`] or [`NpyColumnWriter`]: (shape, C-order data).
pub fn read_npy(path: &Path) -> std::io::Result<(Vec<usize>, Vec<f32>)> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {m}", path.display()));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file"));
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let dict = bytes.get(10..10 + hlen).ok_or_else(|| bad("header longer than the file"))?;
    let dict = std::str::from_utf8(dict).map_err(|_| bad("bad header"))?;
    if !dict.contains("'<f4'") {
        return Err(bad("only little-endian f32 arrays are supported"));
    }
    let fortran = dict.contains("'fortran_order': True");
    let inside = dict.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).ok_or_else(|| bad("no shape"))?;
    let shape: Vec<usize> = inside
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_, _>>()?;
    let data: Vec<f32> =
        bytes[10 + hlen..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    // The shape is the file's claim: checked against the data actually there, overflow included.
    if Some(data.len()) != shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) {
        return Err(bad("data length does not match shape"));
    }
    if fortran && shape.len() == 2 {
        let (r, c) = (shape[0], shape[1]);
        let mut out = vec![0.0; data.len()];
        for j in 0..c {
            for i in 0..r {
                out[i * c + j] = data[j * r + i];
            }
        }
        return Ok((shape, out));
    }
    Ok((shape, data))
}

/// Streams a `[rows, n]` array to disk one column (e.g. one spectrogram frame) at a time.
pub struct NpyColumnWriter {
    file: BufWriter<File>,
    rows: usize,
    cols: usize,
}

impl NpyColumnWriter {
    pub fn create(path: &Path, rows: usize) -> std::io::Result<Self> {
        // Read access too: `map_in_place` makes a second pass over what was written.
        let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)?;
        let mut file = BufWriter::new(f);
        file.write_all(&header(&[rows, 0], true))?;
        Ok(Self { file, rows, cols: 0 })
    }

    /// Append columns stored contiguously (`k * rows` values).
    pub fn push_columns(&mut self, columns: &[f32]) -> std::io::Result<()> {
        assert_eq!(columns.len() % self.rows.max(1), 0);
        self.cols += columns.len() / self.rows.max(1);
        write_f32s(&mut self.file, columns)
    }

    /// Apply `f` to every stored value in place (a second pass, in bounded memory), e.g. a dB
    /// floor that depends on the global maximum.
    pub fn map_in_place(&mut self, f: impl Fn(f32) -> f32) -> std::io::Result<()> {
        self.file.flush()?;
        let file = self.file.get_mut();
        let total = self.rows * self.cols * 4;
        let mut buf = vec![0u8; 1 << 20];
        let mut pos = 0;
        while pos < total {
            let n = buf.len().min(total - pos);
            file.seek(SeekFrom::Start((HEADER_LEN + pos) as u64))?;
            file.read_exact(&mut buf[..n])?;
            for b in buf[..n].chunks_exact_mut(4) {
                let v = f(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                b.copy_from_slice(&v.to_le_bytes());
            }
            file.seek(SeekFrom::Start((HEADER_LEN + pos) as u64))?;
            file.write_all(&buf[..n])?;
            pos += n;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(())
    }

    /// Rewrite the header with the final shape; returns `[rows, cols]`.
    pub fn finish(mut self) -> std::io::Result<[usize; 2]> {
        self.file.flush()?;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header(&[self.rows, self.cols], true))?;
        file.flush()?;
        Ok([self.rows, self.cols])
    }
}
