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
        let (rows, cols) = (self.rows, self.cols);
        let mut out = Array2::zeros(cols, rows);
        // 8x8 tiles through a register-sized buffer: whole rows in, whole columns out, so the
        // compiler emits shuffles instead of one bounds-checked scalar store per element.
        const T: usize = 8;
        let (full_r, full_c) = (rows - rows % T, cols - cols % T);
        for r0 in (0..full_r).step_by(T) {
            for c0 in (0..full_c).step_by(T) {
                let mut tile = [[0.0f32; T]; T];
                for (i, line) in tile.iter_mut().enumerate() {
                    line.copy_from_slice(&self.data[(r0 + i) * cols + c0..][..T]);
                }
                for j in 0..T {
                    let column: [f32; T] = std::array::from_fn(|i| tile[i][j]);
                    out.data[(c0 + j) * rows + r0..][..T].copy_from_slice(&column);
                }
            }
        }
        // The ragged right and bottom edges, element by element.
        for r in 0..rows {
            let from = if r < full_r { full_c } else { 0 };
            for c in from..cols {
                out.data[c * rows + r] = self.data[r * cols + c];
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_moves_every_element() {
        for (rows, cols) in [(1, 1), (3, 17), (8, 8), (16, 9), (21, 35)] {
            let a = Array2::from_vec(rows, cols, (0..rows * cols).map(|i| i as f32).collect());
            let t = a.transpose();
            assert_eq!((t.rows, t.cols), (cols, rows));
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(t.data[c * rows + r], a.data[r * cols + c], "{rows}x{cols} at ({r},{c})");
                }
            }
        }
    }
}
