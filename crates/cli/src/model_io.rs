//! Loading a model: a run folder, a model.json, or the default model embedded in the binary.

use std::path::Path;

#[cfg(not(genre_default_model))]
use anyhow::anyhow;
use anyhow::{Context, Result};
use genre_model::{device, ModelCard, Net};

#[cfg(genre_default_model)]
const DEFAULT_CARD: &str = include_str!(concat!(env!("GENRE_DEFAULT_MODEL_DIR"), "/model.json"));
#[cfg(genre_default_model)]
const DEFAULT_WEIGHTS: &[u8] = include_bytes!(concat!(env!("GENRE_DEFAULT_MODEL_DIR"), "/model.safetensors"));

/// The card and the eval-mode network. `None` = the embedded default model.
pub fn load_model(path: Option<&Path>) -> Result<(ModelCard, Net)> {
    let d = device::base();
    match path {
        Some(p) => {
            let card_path = if p.is_dir() { p.join("model.json") } else { p.to_path_buf() };
            let card = ModelCard::load(&card_path)?;
            let weights = card_path.with_file_name("model.safetensors");
            let net = Net::load(&card.arch, &weights, &d).with_context(|| format!("model {}", card_path.display()))?;
            Ok((card, net))
        }
        None => default_model(&d),
    }
}

#[cfg(genre_default_model)]
fn default_model(d: &burn::prelude::Device) -> Result<(ModelCard, Net)> {
    let card = ModelCard::from_json(DEFAULT_CARD)?;
    let net = Net::load_bytes(&card.arch, DEFAULT_WEIGHTS, d)?;
    Ok((card, net))
}

#[cfg(not(genre_default_model))]
fn default_model(_d: &burn::prelude::Device) -> Result<(ModelCard, Net)> {
    Err(anyhow!("this build has no default model (models/default was missing at build time): pass --model RUN_DIR"))
}
