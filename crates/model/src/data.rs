//! What the trainer needs from a data set: numbered windows with labels and track ids. The
//! implementation (on-disk cache, in-memory rows) lives in `genre-data`; this trait keeps the
//! model crate independent of where features come from.

pub trait DataSource: Sync {
    /// `[rows, cols]` of every window.
    fn shape(&self) -> [usize; 2];
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Write window `i`'s features (row-major) into `x`.
    fn read(&self, i: usize, x: &mut [f32]) -> Result<(), String>;
    fn labels(&self, i: usize) -> &[usize];
    /// The track window `i` belongs to (for track-level scores).
    fn track(&self, i: usize) -> usize;
}

/// Windows held in memory (small data sets, tests, feature tables).
pub struct MemorySource {
    pub shape: [usize; 2],
    pub x: Vec<Vec<f32>>,
    pub labels: Vec<Vec<usize>>,
    pub tracks: Vec<usize>,
}

impl DataSource for MemorySource {
    fn shape(&self) -> [usize; 2] {
        self.shape
    }
    fn len(&self) -> usize {
        self.x.len()
    }
    fn read(&self, i: usize, x: &mut [f32]) -> Result<(), String> {
        x.copy_from_slice(&self.x[i]);
        Ok(())
    }
    fn labels(&self, i: usize) -> &[usize] {
        &self.labels[i]
    }
    fn track(&self, i: usize) -> usize {
        self.tracks[i]
    }
}
