//! Embeds the built-in models when present, so that `genre predict song.mp3` works out of the box:
//! `models/musicnn-head` and `models/gtzan57` (model.json + model.safetensors each), and
//! `models/default/ensemble.json`, the default: an ensemble of those. Without them the program
//! still builds; predict then needs --model.
use std::path::PathBuf;

fn main() {
    let models = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../models");
    let embed = |name: &str, cfg: &str, var: &str, files: &[&str]| {
        let dir = models.join(name);
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        for f in files {
            println!("cargo:rerun-if-changed={}", dir.join(f).display());
        }
        if files.iter().all(|f| dir.join(f).exists()) {
            println!("cargo:rustc-cfg={cfg}");
            println!("cargo:rustc-env={var}={}", dir.canonicalize().unwrap().display());
        }
    };
    let model = ["model.json", "model.safetensors"];
    embed("musicnn-head", "genre_musicnn_head_model", "GENRE_MUSICNN_HEAD_MODEL_DIR", &model);
    embed("gtzan57", "genre_gtzan57_model", "GENRE_GTZAN57_MODEL_DIR", &model);
    embed("default", "genre_default_ensemble", "GENRE_DEFAULT_ENSEMBLE_DIR", &["ensemble.json"]);
}
