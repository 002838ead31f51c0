//! Helpers for tests that drive the `genre` binary end to end.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn genre() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genre"))
}

/// Run `genre args...`; returns the output, asserting the exit code.
pub fn run_ok(args: &[&str]) -> Output {
    let out = genre().args(args).output().expect("genre runs");
    assert!(out.status.success(), "genre {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

#[allow(unused_imports)]
pub use genre_testkit::shared_dir as shared;

pub fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
