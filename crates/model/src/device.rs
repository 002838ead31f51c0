//! The compute device. One place decides the backend, so a faster one (or our own operators)
//! can be dropped in without touching model code.

use burn::prelude::*;

/// The inference device (burn's `flex` CPU backend: measured fastest of the Rust options here).
pub fn base() -> Device {
    Device::flex()
}

/// The training device: `base()` with autodiff.
pub fn training() -> Device {
    base().autodiff()
}
