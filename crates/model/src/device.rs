//! The compute device. One place decides the backend, so a faster one can be dropped in without
//! touching model code. Our own operators ([`crate::ops`]) are implemented for this backend (and
//! its autodiff): another backend needs them implemented too (`ops::backend::FastOps`).

use burn::prelude::*;

/// The inference device (burn's `flex` CPU backend: measured fastest of the Rust options here).
pub fn base() -> Device {
    Device::flex()
}

/// The training device: `base()` with autodiff.
pub fn training() -> Device {
    base().autodiff()
}

/// The device's random stream is one per process, and tests run in parallel threads: a test that
/// seeds it and needs the same draws twice holds this while it runs.
#[cfg(test)]
pub(crate) fn random_stream() -> std::sync::MutexGuard<'static, ()> {
    static STREAM: std::sync::Mutex<()> = std::sync::Mutex::new(());
    STREAM.lock().unwrap_or_else(|e| e.into_inner())
}
