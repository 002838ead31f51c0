//! Running one piece of work over many files: a few files at a time in parallel, a progress
//! bar, and every failure kept with its file and cause while the other files go on.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use genre_pipeline::inputs::named;

use crate::progress::bar;

/// `work` on every file, in parallel (a few files at once, each file itself streamed, so
/// memory does not grow with the number of files); `each` gets every answer on
/// this thread as soon as it is known (completion order, with the file's index), so output
/// can be written while the rest is still working.
pub fn for_each_file<T: Send>(
    files: &[PathBuf],
    what: &str,
    quiet: bool,
    work: impl Fn(&Path) -> Result<T, String> + Sync,
    mut each: impl FnMut(usize, &Path, Result<T, String>),
) {
    let pb = bar(files.len() as u64, what, quiet || files.len() < 2);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let work = &work;
        s.spawn(move || {
            // Groups bound the files in flight: a thread waiting inside one file's parallel
            // work may steal another file, but only from its group.
            let chunk = 2 * rayon::current_num_threads();
            for (g, group) in files.chunks(chunk).enumerate() {
                group.par_iter().enumerate().for_each_with(tx.clone(), |tx, (i, f)| {
                    // The receiver lives until every sender is gone: a send cannot fail here.
                    let _ = tx.send((g * chunk + i, work(f)));
                });
            }
        });
        for (i, r) in rx {
            pb.suspend(|| each(i, &files[i], r));
            pb.inc(1);
        }
    });
    pb.finish_and_clear();
}

/// `work` on every file, answers in input order; failures as "file: cause".
pub fn over_files<T: Send>(
    files: &[PathBuf],
    what: &str,
    quiet: bool,
    work: impl Fn(&Path) -> Result<T, String> + Sync,
) -> (Vec<(PathBuf, T)>, Vec<String>) {
    let mut answers: Vec<Option<Result<T, String>>> = files.iter().map(|_| None).collect();
    for_each_file(files, what, quiet, work, |i, _, r| answers[i] = Some(r));
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for (f, r) in files.iter().zip(answers) {
        match r.expect("every file answered") {
            Ok(v) => done.push((f.clone(), v)),
            Err(e) => failed.push(named(f, e)),
        }
    }
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
