//! Running one piece of work over many files: a few files at a time in parallel, a progress
//! bar, and every failure kept with its file and cause while the other files go on.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use genre_pipeline::inputs::named;

use crate::progress::bar;

/// `work` on every file, answers in input order; failures as "file: cause".
pub fn over_files<T: Send>(
    files: &[PathBuf],
    what: &str,
    quiet: bool,
    work: impl Fn(&Path) -> Result<T, String> + Sync,
) -> (Vec<(PathBuf, T)>, Vec<String>) {
    let pb = bar(files.len() as u64, what, quiet || files.len() < 2);
    // Small groups bound the memory held at once (each file is itself streamed).
    let chunk = 2 * rayon::current_num_threads();
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for group in files.chunks(chunk) {
        let answers: Vec<_> = group.par_iter().map(|f| work(f)).collect();
        for (f, r) in group.iter().zip(answers) {
            match r {
                Ok(v) => done.push((f.clone(), v)),
                Err(e) => failed.push(named(f, e)),
            }
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    (done, failed)
}

/// List failures on stderr (after the work, so they are not lost in progress output); exit
/// code 1 when any.
pub fn report_failures(failures: &[String], total: usize) -> std::process::ExitCode {
    if failures.is_empty() {
        return std::process::ExitCode::SUCCESS;
    }
    eprintln!("{} of {total} files failed:", failures.len());
    for f in failures {
        eprintln!("  {f}");
    }
    std::process::ExitCode::FAILURE
}
