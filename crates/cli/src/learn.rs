//! `genre train`: the flags of [`genre_learn::TrainRequest`], a progress bar, the summary lines.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use genre_learn::{Progress, TrainRequest};
use genre_model::train::Event;
use indicatif::ProgressBar;

use crate::progress::{bar, say};

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub request: TrainRequest,
    /// No progress bars (the summary lines still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: TrainArgs) -> Result<ExitCode> {
    let req = &a.request;
    let epochs = bar(req.epochs as u64, "epochs", a.quiet);
    let features = Features::new(a.quiet);
    let run = genre_learn::train(req, &|p| match p {
        Progress::Train(ev) => show_training(&epochs, ev),
        other => features.show(&epochs, other),
    })?;
    epochs.finish_and_clear();
    eprintln!("best epoch {} of {}; model: {}", run.best_epoch, run.epochs, run.dir.join("model.json").display());
    if !run.skipped.is_empty() {
        eprintln!("{} tracks were skipped (listed above): the model was trained without them", run.skipped.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn show_training(pb: &ProgressBar, ev: Event) {
    match ev {
        Event::Resumed { epochs_done } => {
            pb.set_position(epochs_done as u64);
            say(pb, format!("resumed after epoch {epochs_done}"));
        }
        Event::Batch { epoch, batch, batches, loss, acc, metric } => {
            pb.set_message(format!("e{epoch} {batch}/{batches} loss {loss:.3} {} {acc:.3}", short(metric)))
        }
        Event::Epoch { history } => {
            let r = history.last().expect("epoch recorded");
            let m = short(&r.metric);
            pb.set_position(r.epoch as u64);
            say(
                pb,
                format!(
                "epoch {:>3}  loss {:.4}  {m} {:.3}  | valid loss {:.4}  segment {m} {:.3}  track {m} {:.3}  ({:.1}s)",
                r.epoch, r.train_loss, r.train_acc, r.valid_loss, r.valid_segment_acc, r.valid_track_acc, r.seconds
            ),
            );
        }
    }
}

/// "acc", or the metric's own name ("micro-F1") for multi-label runs.
fn short(metric: &str) -> &str {
    if metric == "accuracy" {
        "acc"
    } else {
        metric
    }
}

/// The feature-computation bar (one per side of the split, made when its first track reports)
/// and the lines that are not training events.
pub struct Features {
    quiet: bool,
    bar: std::sync::Mutex<Option<(String, ProgressBar)>>,
}

impl Features {
    pub fn new(quiet: bool) -> Self {
        Self { quiet, bar: std::sync::Mutex::new(None) }
    }

    /// Show `p` (any progress but a training event) above `line_bar`, the bar lines go above.
    pub fn show(&self, line_bar: &ProgressBar, p: Progress) {
        match p {
            Progress::Features { what, done, total } => {
                let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
                if slot.as_ref().is_none_or(|(w, _)| w != what) {
                    if let Some((_, old)) = slot.take() {
                        old.finish_and_clear();
                    }
                    *slot = Some((what.to_string(), bar(total as u64, what, self.quiet || total == 0)));
                }
                let (_, pb) = slot.as_ref().expect("just set");
                pb.set_position(done as u64);
                if done == total {
                    pb.finish_and_clear();
                }
            }
            Progress::Skipped { path, why } => {
                say(line_bar, format!("skipped {}", genre_pipeline::inputs::named(path, why.to_string())))
            }
            Progress::Note(line) => say(line_bar, line),
            Progress::Train(_) => {}
        }
    }
}
