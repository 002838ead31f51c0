//! The SQLite database of scanned tracks (WAL; one transaction per batch, so a `kill -9`
//! loses at most the batch in flight and never leaves a half-written row).

use std::path::Path;

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// One row of `tracks`.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub path: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub hash: String,
    pub duration: Option<f64>,
    pub genre: Option<String>,
    /// `{"genre": probability, ...}`.
    pub probabilities: Option<String>,
    /// `[["tag", score], ...]`, musicnn-MSD's top tags.
    pub tags: Option<String>,
    pub model_id: String,
    pub error: Option<String>,
}

pub const COLUMNS: [&str; 10] =
    ["path", "size", "mtime_ns", "hash", "duration", "genre", "probabilities", "tags", "model_id", "error"];

pub struct Store {
    conn: Connection,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        // WAL + synchronous=NORMAL: a committed batch survives a killed process (it is in the
        // log), and readers are never blocked by the scan.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS tracks (
                path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                hash TEXT NOT NULL, duration REAL, genre TEXT, probabilities TEXT, tags TEXT,
                model_id TEXT NOT NULL, error TEXT)",
        )?;
        Ok(Self { conn })
    }

    pub fn get(&self, path: &str) -> Result<Option<Track>> {
        let sql = format!("SELECT {} FROM tracks WHERE path = ?1", COLUMNS.join(","));
        Ok(self.conn.query_row(&sql, [path], row_to_track).optional()?)
    }

    /// Write `tracks` in one transaction (replacing rows of the same path).
    pub fn put(&mut self, tracks: &[Track]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached("INSERT OR REPLACE INTO tracks VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)")?;
            for t in tracks {
                st.execute(params![
                    t.path,
                    t.size,
                    t.mtime_ns,
                    t.hash,
                    t.duration,
                    t.genre,
                    t.probabilities,
                    t.tags,
                    t.model_id,
                    t.error
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A file touched but not changed: only its mtime moves.
    pub fn touch(&mut self, path: &str, mtime_ns: i64) -> Result<()> {
        self.conn.execute("UPDATE tracks SET mtime_ns = ?2 WHERE path = ?1", params![path, mtime_ns])?;
        Ok(())
    }

    pub fn all(&self) -> Result<Vec<Track>> {
        let sql = format!("SELECT {} FROM tracks ORDER BY path", COLUMNS.join(","));
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map([], row_to_track)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn row_to_track(r: &rusqlite::Row) -> rusqlite::Result<Track> {
    Ok(Track {
        path: r.get(0)?,
        size: r.get(1)?,
        mtime_ns: r.get(2)?,
        hash: r.get(3)?,
        duration: r.get(4)?,
        genre: r.get(5)?,
        probabilities: r.get(6)?,
        tags: r.get(7)?,
        model_id: r.get(8)?,
        error: r.get(9)?,
    })
}
