//! `genre explain`: Grad-CAM of a song mapped to seconds: a picture and a JSON of the evidence.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use genre_pipeline::explain::{explain_picture, first_layer_maps, first_layer_order, member_name, CELLS_PER_SEC};
use genre_pipeline::Explanation;
use genre_pipeline::Predictor;
use genre_report::explain::maps_png;
use serde_json::json;

use genre_pipeline::inputs::named;

/// Examples:
///   genre explain song.mp3 --out cam.png                 (why the default model chose its genre)
///   genre explain song.mp3 --class jazz --json cam.json  (the evidence for jazz, per second)
///   genre explain song.mp3 --model runs/cnn --out cam.png
/// The evidence, for every window, overlapping windows averaged: musicnn heads: gradient x input
/// on the log-mel window (smoothed, its positive part, 16 frequency rows); cnn, resnet, crnn:
/// Grad-CAM on the last convolutional block. An ensemble is mapped through its first (musicnn)
/// member; the others have no map (the picture and the JSON say so).
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ExplainArgs {
    /// The audio file.
    pub input: PathBuf,
    /// The genre to explain (default: the model's answer).
    #[arg(long)]
    pub class: Option<String>,
    /// A run folder, model.json or ensemble folder (default: the built-in model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The picture: log-mel spectrogram with the evidence over it, the per-window genres under it.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// The evidence per second, the windows' probabilities (JSON).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// At most this many windows, evenly spread over the file.
    #[arg(long, default_value_t = 64)]
    pub max_windows: usize,
    /// cam (Grad-CAM, default), or first: the first convolutional layer's feature maps for the
    /// middle window, as a picture grid (--out).
    #[arg(long, default_value = "cam")]
    pub layer: String,
}

pub fn run(a: ExplainArgs) -> Result<ExitCode> {
    if a.out.is_none() && a.json.is_none() {
        bail!("give --out cam.png and/or --json cam.json");
    }
    let model = Predictor::load(a.model.as_deref())?;
    if a.layer == "first" {
        return first_layer(&a, &model);
    }
    if a.layer != "cam" {
        bail!("--layer {}: cam or first", a.layer);
    }
    let classes = model.card().classes.clone();
    let class = match &a.class {
        Some(name) => Some(
            classes
                .iter()
                .position(|c| c == name)
                .with_context(|| format!("--class {name}: the model knows {}", classes.join(", ")))?,
        ),
        None => None,
    };
    let e = match model.explain_file(&a.input, class, Some(a.max_windows.max(1))) {
        Ok(e) => e,
        Err(err) => {
            eprintln!("{}", named(&a.input, err.to_string()));
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(w) = &e.warning {
        eprintln!("warning: {}: {w}", a.input.display());
    }
    // A picture that cannot be drawn (a very long file) costs the picture only: the JSON is
    // still written, with a warning and exit 1.
    let mut picture = serde_json::Value::Null;
    let mut code = ExitCode::SUCCESS;
    if let Some(out) = &a.out {
        match explain_picture(&a.input, None, &e, &classes, out) {
            Ok(plot) => {
                picture = json!({ "path": out, "plot": plot });
                eprintln!("picture written to {}", out.display());
            }
            Err(err) => {
                eprintln!("warning: {}: picture not drawn: {err:#}", out.display());
                picture = json!({ "error": format!("{err:#}") });
                code = ExitCode::FAILURE;
            }
        }
    }
    let top: Vec<(String, f32)> =
        genre_model::metrics::top_k(&e.probs, 3).into_iter().map(|i| (classes[i].clone(), e.probs[i])).collect();
    println!(
        "{}: {} explained ({:.1}%); most evidence at {}",
        a.input.display(),
        classes[e.class],
        100.0 * e.probs[e.class],
        peak_seconds(&e.per_second)
    );
    if let Some(path) = &a.json {
        let segments: Vec<_> = e
            .times
            .iter()
            .zip(&e.window_probs)
            .map(|(&(s, t), p)| json!({ "start": s, "end": t, "genre": classes[genre_model::metrics::argmax(p)], "probabilities": p }))
            .collect();
        let doc = json!({
            "file": a.input, "class": classes[e.class], "classes": classes, "top": top, "probabilities": e.probs,
            "duration": e.duration, "segments": segments,
            "cam": {
                "method": e.method, "note": e.note, "members": members(&model),
                "seconds": e.per_second, "cells_per_second": CELLS_PER_SEC, "rows": e.rows, "cols": e.cols,
                "row_hz": e.row_hz, "grid": grid_rows(&e),
            },
            "picture": picture, "warning": e.warning,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?).with_context(|| path.display().to_string())?;
    }
    Ok(code)
}

fn first_layer(a: &ExplainArgs, model: &Predictor) -> Result<ExitCode> {
    let Some(out) = &a.out else { bail!("--layer first draws a picture: give --out maps.png") };
    let (maps, shape, (start, end)) = match first_layer_maps(&model.members[0].0, &a.input) {
        Ok(m) => m,
        Err(err) => {
            eprintln!("{}", named(&a.input, err.to_string()));
            return Ok(ExitCode::FAILURE);
        }
    };
    let order = first_layer_order(&maps, shape);
    let active = maps.chunks((shape[1] * shape[2]).max(1)).filter(|m| m.iter().any(|&v| v != m[0])).count();
    let title = format!(
        "first layer, {start:.1}-{end:.1} s: the {} most varied of {} maps ({active} not flat; mostly dark ones left out), {}x{} (freq x time)",
        order.len(),
        shape[0],
        shape[1],
        shape[2]
    );
    maps_png(out, &maps, shape, &order, &title).with_context(|| out.display().to_string())?;
    eprintln!("{} feature maps written to {}", order.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

/// Each member of the model: what it is, its weight, whether the map shows it (the first).
fn members(model: &Predictor) -> serde_json::Value {
    model
        .members
        .iter()
        .enumerate()
        .map(|(k, (c, w))| json!({ "model": member_name(c), "weight": w, "mapped": k == 0 }))
        .collect()
}

/// The evidence grid as rows (row 0 = lowest frequency), 3 decimals.
fn grid_rows(e: &Explanation) -> Vec<Vec<f32>> {
    e.grid.chunks(e.cols.max(1)).map(|r| r.iter().map(|v| (v * 1000.0).round() / 1000.0).collect()).collect()
}

/// The three seconds with the most evidence, as "12 s, 13 s, 40 s".
fn peak_seconds(per_second: &[f32]) -> String {
    let mut idx: Vec<usize> = (0..per_second.len()).collect();
    idx.sort_by(|&a, &b| per_second[b].total_cmp(&per_second[a]));
    idx.truncate(3);
    idx.sort();
    idx.iter().map(|s| format!("{s} s")).collect::<Vec<_>>().join(", ")
}
