//! One type over the model families: build, forward, eval mode, save and load.

use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot, SafetensorsStore};

use crate::arch::{ArchConfig, Cnn, Crnn, Family, LstmNet, Mlp, Resnet};
use crate::{ModelError, Result};

/// burn derives `Module` for the enum: parameters, eval mode (`valid()`), saving and loading,
/// and optimizer steps all work on `Net` directly.
#[derive(Module, Debug)]
pub enum Net {
    Cnn(Cnn),
    Resnet(Resnet),
    Lstm(LstmNet),
    Crnn(Crnn),
    Mlp(Mlp),
}

impl Net {
    pub fn new(a: &ArchConfig, d: &Device) -> Self {
        match a.family {
            Family::Cnn => Net::Cnn(Cnn::new(a, d)),
            Family::Resnet => Net::Resnet(Resnet::new(a, d)),
            Family::Lstm => Net::Lstm(LstmNet::new(a, d)),
            Family::Crnn => Net::Crnn(Crnn::new(a, d)),
            Family::Features => Net::Mlp(Mlp::new(a, d)),
        }
    }

    /// Logits `[B, classes]` for a batch `[B, rows, cols]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        match self {
            Net::Cnn(m) => m.head(m.features(x)),
            Net::Resnet(m) => m.head(m.features(x)),
            Net::Crnn(m) => m.head(m.features(x)),
            Net::Lstm(m) => m.forward(x),
            Net::Mlp(m) => m.forward(x),
        }
    }

    /// The last convolutional block's output, for Grad-CAM (None for non-convolutional models).
    pub fn conv_features(&self, x: Tensor<3>) -> Option<Tensor<4>> {
        match self {
            Net::Cnn(m) => Some(m.features(x)),
            Net::Resnet(m) => Some(m.features(x)),
            Net::Crnn(m) => Some(m.features(x)),
            Net::Lstm(_) | Net::Mlp(_) => None,
        }
    }

    /// Logits from [`Net::conv_features`]' output.
    pub fn head(&self, f: Tensor<4>) -> Option<Tensor<2>> {
        match self {
            Net::Cnn(m) => Some(m.head(f)),
            Net::Resnet(m) => Some(m.head(f)),
            Net::Crnn(m) => Some(m.head(f)),
            Net::Lstm(_) | Net::Mlp(_) => None,
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut store = SafetensorsStore::from_file(path.to_path_buf()).overwrite(true);
        self.save_into(&mut store)
            .map_err(|e| ModelError::File { path: path.into(), msg: format!("saving weights: {e:?}") })
    }

    /// Build the structure of `a` and fill it from a safetensors file; a file whose tensors do
    /// not fit the structure is refused with the reason.
    pub fn load(a: &ArchConfig, path: &Path, d: &Device) -> Result<Net> {
        if !path.exists() {
            return Err(ModelError::File { path: path.into(), msg: "no such model file".into() });
        }
        Self::load_store(a, SafetensorsStore::from_file(path.to_path_buf()), d, path)
    }

    /// Save a training checkpoint (burnpack: unlike safetensors it keeps each parameter's
    /// identity, which the optimizer state is keyed by, so a resumed run continues exactly).
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let mut store = BurnpackStore::from_file(path).overwrite(true).auto_extension(false);
        self.save_into(&mut store)
            .map_err(|e| ModelError::File { path: path.into(), msg: format!("saving checkpoint: {e:?}") })
    }

    pub fn load_checkpoint(a: &ArchConfig, path: &Path, d: &Device) -> Result<Net> {
        let mut net = Net::new(a, d);
        let r = net
            .load_from(&mut BurnpackStore::from_file(path).auto_extension(false))
            .map_err(|e| ModelError::File { path: path.into(), msg: format!("not a valid checkpoint: {e:?}") })?;
        if !r.errors.is_empty() || !r.missing.is_empty() {
            return Err(ModelError::File {
                path: path.into(),
                msg: format!("checkpoint does not fit a {:?} model", a.family),
            });
        }
        Ok(net)
    }

    /// Same as [`Net::load`] from bytes (the model embedded in the binary).
    pub fn load_bytes(a: &ArchConfig, bytes: &[u8], d: &Device) -> Result<Net> {
        Self::load_store(a, SafetensorsStore::from_bytes(Some(bytes.to_vec())), d, Path::new("<embedded model>"))
    }

    fn load_store(a: &ArchConfig, mut store: SafetensorsStore, d: &Device, origin: &Path) -> Result<Net> {
        let bad = |msg: String| ModelError::File { path: origin.into(), msg };
        let mut net = Net::new(a, d);
        let r = net.load_from(&mut store).map_err(|e| bad(format!("not a valid model file: {e:?}")))?;
        if !r.errors.is_empty() || !r.missing.is_empty() {
            return Err(bad(format!(
                "weights do not fit a {:?} model: {} missing, errors {:?}",
                a.family,
                r.missing.len(),
                r.errors
            )));
        }
        Ok(net)
    }
}
