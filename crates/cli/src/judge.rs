//! `genre eval`: the flags of [`genre_learn::EvalRequest`]; the report printed as Markdown or JSON.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use genre_learn::EvalRequest;
use indicatif::ProgressBar;

use crate::learn::Features;

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub request: EvalRequest,
    /// Print the report as JSON on stdout (Markdown otherwise).
    #[arg(long)]
    pub json: bool,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: EvalArgs) -> Result<ExitCode> {
    let features = Features::new(a.quiet);
    let lines = ProgressBar::hidden();
    let eval = genre_learn::evaluate(&a.request, &|p| features.show(&lines, p))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&eval)?);
    } else {
        println!("{}", eval.report.markdown(&eval.classes));
    }
    eprintln!("{}", eval.report.summary());
    if !eval.skipped.is_empty() {
        // Scores of the tracks that were read are not scores of the part asked for.
        eprintln!(
            "{} of {} tracks could not be scored (listed above): the scores above are of the other {} only",
            eval.skipped.len(),
            eval.skipped.len() + eval.report.n_tracks,
            eval.report.n_tracks
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
