//! Draw a reliability diagram from JSON (`benches/valid_accuracy.py --calibrate ... out.json`):
//! `cargo run --release -p genre-report --example reliability -- in.json out.png "title"`.
//! How the README's diagram of the default ensemble was drawn (an ensemble has no `genre eval`).

use genre_report::reliability::{reliability_png, BinPoint, Curve};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, out, title] = args.as_slice() else {
        return Err("usage: reliability IN.json OUT.png TITLE".into());
    };
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(input)?)?;
    let num = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0) as f32;
    let curves: Vec<(String, f32, Vec<BinPoint>)> = doc["curves"]
        .as_array()
        .ok_or("no curves")?
        .iter()
        .map(|c| {
            let bins = c["bins"].as_array().map(Vec::as_slice).unwrap_or_default();
            let bins = bins
                .iter()
                .map(|b| BinPoint {
                    confidence: num(&b["confidence"]),
                    accuracy: num(&b["accuracy"]),
                    count: b["count"].as_u64().unwrap_or(0) as usize,
                })
                .collect();
            (c["name"].as_str().unwrap_or("").to_string(), num(&c["ece"]), bins)
        })
        .collect();
    let curves: Vec<Curve> =
        curves.iter().map(|(name, ece, bins)| Curve { name, ece: *ece, bins: bins.clone() }).collect();
    reliability_png(std::path::Path::new(out), title, &curves)?;
    Ok(())
}
