//! Progress bars for long work (hidden when stderr is not a terminal or with --quiet).

use indicatif::{ProgressBar, ProgressStyle};

pub fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Print a line above the bar, or plainly to stderr when the bar is hidden (not a terminal,
/// --quiet), so that logs and CI output keep every line.
pub fn say(pb: &ProgressBar, line: String) {
    if pb.is_hidden() {
        eprintln!("{line}");
    } else {
        pb.println(line);
    }
}
