//! Embeds the default model (models/default/model.{json,safetensors}) when it is present, so that
//! `genre predict song.mp3` works out of the box. Without it the program still builds; predict
//! then needs --model.
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../models/default");
    println!("cargo::rustc-check-cfg=cfg(genre_default_model)");
    for f in ["model.json", "model.safetensors"] {
        println!("cargo:rerun-if-changed={}", dir.join(f).display());
    }
    if dir.join("model.json").exists() && dir.join("model.safetensors").exists() {
        println!("cargo:rustc-cfg=genre_default_model");
        println!("cargo:rustc-env=GENRE_DEFAULT_MODEL_DIR={}", dir.canonicalize().unwrap().display());
    }
}
