//! The last stage of the pipeline: turning arrays and scores into files people and programs read.

pub mod canvas;
pub mod chart;
pub mod colorbar;
pub mod colors;
pub mod explain;
pub mod npy;
pub mod reliability;
pub mod spectrogram;
