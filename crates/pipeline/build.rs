//! Embeds the built-in models when present, so that `genre predict song.mp3` works out of the box:
//! `models/default` (the default for audio) and `models/gtzan57` (the GTZAN-57 MLP, for
//! `predict --features table.csv`). Without them the program still builds; predict then needs
//! --model.
use std::path::PathBuf;

fn main() {
    let models = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../models");
    for (name, cfg, var) in [
        ("default", "genre_default_model", "GENRE_DEFAULT_MODEL_DIR"),
        ("gtzan57", "genre_gtzan57_model", "GENRE_GTZAN57_MODEL_DIR"),
    ] {
        let dir = models.join(name);
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        for f in ["model.json", "model.safetensors"] {
            println!("cargo:rerun-if-changed={}", dir.join(f).display());
        }
        if dir.join("model.json").exists() && dir.join("model.safetensors").exists() {
            println!("cargo:rustc-cfg={cfg}");
            println!("cargo:rustc-env={var}={}", dir.canonicalize().unwrap().display());
        }
    }
}
