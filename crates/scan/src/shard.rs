//! Deterministic shares of the inputs, for many machines scanning one library.

use anyhow::{bail, Context, Result};
use genre_data::hash::fnv1a64;

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// `I/N`, or `auto`: from `JOB_COMPLETION_INDEX` + `GENRE_SHARD_COUNT` (Kubernetes Indexed
    /// Jobs) or `SLURM_ARRAY_TASK_ID` + `SLURM_ARRAY_TASK_COUNT`.
    pub fn parse(s: &str) -> Result<Self> {
        if s == "auto" {
            return Self::from_env(|k| std::env::var(k).ok());
        }
        let (i, n) = s.split_once('/').context("--shard wants I/N (e.g. 0/4) or auto")?;
        Self::new(i.trim().parse()?, n.trim().parse()?)
    }

    pub fn new(index: u64, count: u64) -> Result<Self> {
        if count == 0 || index >= count {
            bail!("shard {index}/{count}: the index must be below the count (0-based)");
        }
        Ok(Self { index, count })
    }

    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        for (i, n) in [("JOB_COMPLETION_INDEX", "GENRE_SHARD_COUNT"), ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT")]
        {
            if let Some(index) = var(i) {
                let count = var(n).with_context(|| format!("--shard auto: {i} is set but {n} is not"))?;
                return Self::new(index.trim().parse()?, count.trim().parse()?);
            }
        }
        bail!("--shard auto: set JOB_COMPLETION_INDEX + GENRE_SHARD_COUNT or SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT")
    }

    /// Whether `path` (as given, so every shard sees the same string) is in this share.
    pub fn holds(&self, path: &str) -> bool {
        // FNV-1a: the same share on every machine, run and Rust version (std's hasher is seeded).
        fnv1a64(path.as_bytes()) % self.count == self.index
    }
}
