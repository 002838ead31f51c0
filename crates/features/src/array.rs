//! A minimal row-major 2-D array. Features need only shape, rows and element access; a full
//! n-d array crate would add a dependency and conversions on every hot path for no gain.

#[derive(Debug, Clone, PartialEq)]
pub struct Array2 {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl Array2 {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: vec![0.0; rows * cols] }
    }

    pub fn from_vec(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), rows * cols, "Array2::from_vec: {rows}x{cols} != {}", data.len());
        Self { rows, cols, data }
    }

    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    #[inline]
    pub fn get(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.cols + c]
    }

    #[inline]
    pub fn set(&mut self, r: usize, c: usize, v: f32) {
        self.data[r * self.cols + c] = v;
    }

    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    pub fn transpose(&self) -> Array2 {
        let mut out = Array2::zeros(self.cols, self.rows);
        // Blocked transpose: keeps both sides in cache for spectrogram-sized arrays.
        const B: usize = 32;
        for r0 in (0..self.rows).step_by(B) {
            for c0 in (0..self.cols).step_by(B) {
                for r in r0..(r0 + B).min(self.rows) {
                    for c in c0..(c0 + B).min(self.cols) {
                        out.data[c * self.rows + r] = self.data[r * self.cols + c];
                    }
                }
            }
        }
        out
    }

    pub fn map(&self, f: impl Fn(f32) -> f32) -> Array2 {
        Array2::from_vec(self.rows, self.cols, self.data.iter().map(|&x| f(x)).collect())
    }

    pub fn max(&self) -> f32 {
        self.data.iter().copied().fold(f32::NEG_INFINITY, f32::max)
    }
}
