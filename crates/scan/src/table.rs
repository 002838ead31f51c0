//! The database as a table file (`--export out.parquet|out.csv`; each shard of a distributed
//! scan writes its own Parquet part) and `--merge` of such parts into one database.
//!
//! Parquet through the `parquet` crate's low-level column writer (no Arrow: the table is ten
//! plain columns, and Arrow would double genre's build). Strings are UTF8 byte arrays, nullable
//! columns OPTIONAL, so pandas, DuckDB, Spark and Ray read the file as typed columns.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::{Field, Row};
use parquet::schema::parser::parse_message_type;

use crate::store::{Store, Track, COLUMNS};

const SCHEMA: &str = "message track {
    REQUIRED BYTE_ARRAY path (UTF8);
    REQUIRED INT64 size;
    REQUIRED INT64 mtime_ns;
    REQUIRED BYTE_ARRAY hash (UTF8);
    OPTIONAL DOUBLE duration;
    OPTIONAL BYTE_ARRAY genre (UTF8);
    OPTIONAL BYTE_ARRAY probabilities (UTF8);
    OPTIONAL BYTE_ARRAY tags (UTF8);
    REQUIRED BYTE_ARRAY model_id (UTF8);
    OPTIONAL BYTE_ARRAY error (UTF8);
}";

/// Write every track of `store` to `out` (`.parquet` or `.csv`), through a temporary name
/// renamed when complete: a killed export never leaves a truncated table.
pub fn export(store: &Store, out: &Path) -> Result<usize> {
    let tracks = store.all()?;
    let tmp = PathBuf::from(format!("{}.partial", out.display()));
    match extension(out).as_str() {
        "parquet" => write_parquet(&tracks, &tmp),
        "csv" => write_csv(&tracks, &tmp),
        other => bail!("{}: export writes .parquet or .csv, not '.{other}'", out.display()),
    }
    .with_context(|| out.display().to_string())?;
    std::fs::rename(&tmp, out).with_context(|| out.display().to_string())?;
    Ok(tracks.len())
}

fn extension(p: &Path) -> String {
    p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase()
}

fn write_csv(tracks: &[Track], out: &Path) -> Result<()> {
    let mut w = csv::Writer::from_path(out)?;
    w.write_record(COLUMNS)?;
    for t in tracks {
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        w.write_record([
            t.path.clone(),
            t.size.to_string(),
            t.mtime_ns.to_string(),
            t.hash.clone(),
            t.duration.map(|d| format!("{d:?}")).unwrap_or_default(),
            opt(&t.genre),
            opt(&t.probabilities),
            opt(&t.tags),
            t.model_id.clone(),
            opt(&t.error),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Present values and definition levels (1 = present) of an optional column.
fn optional<'a, T, U>(
    tracks: &'a [Track],
    get: impl Fn(&'a Track) -> Option<T>,
    conv: impl Fn(T) -> U,
) -> (Vec<U>, Vec<i16>) {
    let (mut values, mut defs) = (Vec::new(), Vec::new());
    for t in tracks {
        match get(t) {
            Some(v) => {
                values.push(conv(v));
                defs.push(1);
            }
            None => defs.push(0),
        }
    }
    (values, defs)
}

fn text(s: &str) -> ByteArray {
    ByteArray::from(s.as_bytes().to_vec())
}

fn write_parquet(tracks: &[Track], out: &Path) -> Result<()> {
    let schema = Arc::new(parse_message_type(SCHEMA)?);
    let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
    let mut w = SerializedFileWriter::new(File::create(out)?, schema, props)?;
    let mut rg = w.next_row_group()?;
    let strings = |get: fn(&Track) -> &str| tracks.iter().map(|t| text(get(t))).collect::<Vec<_>>();
    let opt_str = |get: for<'t> fn(&'t Track) -> Option<&'t str>| optional(tracks, get, text);
    let mut col = 0;
    while let Some(mut c) = rg.next_column()? {
        match col {
            0 => c.typed::<ByteArrayType>().write_batch(&strings(|t| &t.path), None, None)?,
            1 => c.typed::<Int64Type>().write_batch(&tracks.iter().map(|t| t.size).collect::<Vec<_>>(), None, None)?,
            2 => c.typed::<Int64Type>().write_batch(
                &tracks.iter().map(|t| t.mtime_ns).collect::<Vec<_>>(),
                None,
                None,
            )?,
            3 => c.typed::<ByteArrayType>().write_batch(&strings(|t| &t.hash), None, None)?,
            4 => {
                let (v, d) = optional(tracks, |t| t.duration, |x| x);
                c.typed::<DoubleType>().write_batch(&v, Some(&d), None)?
            }
            5..=7 | 9 => {
                let get: fn(&Track) -> Option<&str> = match col {
                    5 => |t| t.genre.as_deref(),
                    6 => |t| t.probabilities.as_deref(),
                    7 => |t| t.tags.as_deref(),
                    _ => |t| t.error.as_deref(),
                };
                let (v, d) = opt_str(get);
                c.typed::<ByteArrayType>().write_batch(&v, Some(&d), None)?
            }
            8 => c.typed::<ByteArrayType>().write_batch(&strings(|t| &t.model_id), None, None)?,
            _ => bail!("unexpected column {col}"),
        };
        c.close()?;
        col += 1;
    }
    rg.close()?;
    w.close()?;
    Ok(())
}

fn read_parquet(path: &Path) -> Result<Vec<Track>> {
    let reader = SerializedFileReader::new(genre_fsio::open_regular(path)?)?;
    let names: Vec<String> =
        reader.metadata().file_metadata().schema_descr().columns().iter().map(|c| c.name().to_string()).collect();
    if names != COLUMNS {
        bail!("not a genre scan table (columns {names:?})");
    }
    reader.get_row_iter(None)?.map(|row| track_of(&row?)).collect()
}

fn track_of(row: &Row) -> Result<Track> {
    let f: Vec<&Field> = row.get_column_iter().map(|(_, f)| f).collect();
    let s = |i: usize| match f[i] {
        Field::Str(s) => Ok(Some(s.clone())),
        Field::Null => Ok(None),
        other => bail!("column {}: unexpected {other:?}", COLUMNS[i]),
    };
    let n = |i: usize| match f[i] {
        Field::Long(v) => Ok(*v),
        other => bail!("column {}: unexpected {other:?}", COLUMNS[i]),
    };
    let required = |i: usize| s(i)?.with_context(|| format!("column {} is empty", COLUMNS[i]));
    Ok(Track {
        path: required(0)?,
        size: n(1)?,
        mtime_ns: n(2)?,
        hash: required(3)?,
        duration: match f[4] {
            Field::Double(d) => Some(*d),
            _ => None,
        },
        genre: s(5)?,
        probabilities: s(6)?,
        tags: s(7)?,
        model_id: required(8)?,
        error: s(9)?,
    })
}

fn read_csv(path: &Path) -> Result<Vec<Track>> {
    let text = genre_fsio::read_text(path, genre_fsio::TEXT_CAP)?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let s = |i: usize| rec.get(i).unwrap_or("").to_string();
        let opt = |i: usize| Some(s(i)).filter(|v| !v.is_empty());
        out.push(Track {
            path: s(0),
            size: s(1).parse()?,
            mtime_ns: s(2).parse()?,
            hash: s(3),
            duration: opt(4).map(|d| d.parse()).transpose()?,
            genre: opt(5),
            probabilities: opt(6),
            tags: opt(7),
            model_id: s(8),
            error: opt(9),
        });
    }
    Ok(out)
}

/// Every `*.parquet` and `*.csv` part of `dir` into `store`, one transaction per part (a part
/// is merged whole or not at all). Returns the tracks merged.
pub fn merge_parts(dir: &Path, store: &mut Store) -> Result<usize> {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(extension(p).as_str(), "parquet" | "csv"))
        .collect();
    parts.sort();
    if parts.is_empty() {
        bail!("{}: no .parquet or .csv parts to merge", dir.display());
    }
    let mut n = 0;
    for p in parts {
        let tracks = if extension(&p) == "parquet" { read_parquet(&p) } else { read_csv(&p) }
            .with_context(|| p.display().to_string())?;
        n += tracks.len();
        store.put(&tracks)?;
    }
    Ok(n)
}
