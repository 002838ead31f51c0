//! One type over the model families: build, forward, eval mode, save and load.

use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot, SafetensorsStore};

use crate::arch::{ArchConfig, Cnn, Crnn, Family, LstmNet, Mlp, MusicnnHead, Resnet};
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
    Musicnn(MusicnnHead),
}

impl Net {
    pub fn new(a: &ArchConfig, d: &Device) -> Self {
        match a.family {
            Family::Cnn => Net::Cnn(Cnn::new(a, d)),
            Family::Resnet => Net::Resnet(Resnet::new(a, d)),
            Family::Lstm => Net::Lstm(LstmNet::new(a, d)),
            Family::Crnn => Net::Crnn(Crnn::new(a, d)),
            Family::Features => Net::Mlp(Mlp::new(a, d)),
            Family::Musicnn => Net::Musicnn(MusicnnHead::new(a, d)),
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
            Net::Musicnn(m) => m.forward(x),
        }
    }

    /// The last convolutional block's output, for Grad-CAM (None for non-convolutional models).
    pub fn conv_features(&self, x: Tensor<3>) -> Option<Tensor<4>> {
        match self {
            Net::Cnn(m) => Some(m.features(x)),
            Net::Resnet(m) => Some(m.features(x)),
            Net::Crnn(m) => Some(m.features(x)),
            Net::Lstm(_) | Net::Mlp(_) | Net::Musicnn(_) => None,
        }
    }

    /// The first convolutional layer's maps `[B, filters, rows, cols]` (None without one).
    pub fn first_maps(&self, x: Tensor<3>) -> Option<Tensor<4>> {
        match self {
            Net::Cnn(m) => Some(m.first_maps(x)),
            Net::Resnet(m) => Some(m.first_maps(x)),
            Net::Crnn(m) => Some(m.first_maps(x)),
            Net::Lstm(_) | Net::Mlp(_) | Net::Musicnn(_) => None,
        }
    }

    /// Logits from [`Net::conv_features`]' output.
    pub fn head(&self, f: Tensor<4>) -> Option<Tensor<2>> {
        match self {
            Net::Cnn(m) => Some(m.head(f)),
            Net::Resnet(m) => Some(m.head(f)),
            Net::Crnn(m) => Some(m.head(f)),
            Net::Lstm(_) | Net::Mlp(_) | Net::Musicnn(_) => None,
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
        let file_err = |msg: String| ModelError::File { path: path.into(), msg };
        // The file is read whole: refuse first one far larger than the card's architecture
        // can hold (f32 parameters, twice over for slack, plus a header), so a wrong or hostile
        // path cannot make us allocate gigabytes.
        let net = Net::new(a, d);
        let params = net.num_params() as u64;
        let bytes = genre_fsio::read_capped(path, 8 * params + (1 << 20)).map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::InvalidData {
                format!("far more than the {params} parameters of this {:?} model need ({e})", a.family)
            } else {
                e.to_string()
            };
            file_err(why)
        })?;
        Self::fill(net, a, &bytes, path)
    }

    /// Save a training checkpoint (burnpack: unlike safetensors it keeps each parameter's
    /// identity, which the optimizer state is keyed by, so a resumed run continues exactly).
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let mut store = BurnpackStore::from_file(path).overwrite(true).auto_extension(false);
        self.save_into(&mut store)
            .map_err(|e| ModelError::File { path: path.into(), msg: format!("saving checkpoint: {e:?}") })
    }

    pub fn load_checkpoint(a: &ArchConfig, path: &Path, d: &Device) -> Result<Net> {
        // burn opens the path itself: a FIFO put there must be refused before it blocks.
        genre_fsio::open_regular(path).map_err(|e| ModelError::File { path: path.into(), msg: e.to_string() })?;
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
        Self::fill(Net::new(a, d), a, bytes, Path::new("<embedded model>"))
    }

    /// `net` (the structure of `a`) with its weights from safetensors `bytes`.
    fn fill(mut net: Net, a: &ArchConfig, bytes: &[u8], origin: &Path) -> Result<Net> {
        let bad = |msg: String| ModelError::File { path: origin.into(), msg };
        check_finite(bytes).map_err(bad)?;
        let mut store = SafetensorsStore::from_bytes(Some(bytes.to_vec()));
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

/// Refuse weights that could only produce NaN answers: a safetensors file whose f32 tensors hold
/// a NaN or an infinity is rejected before it is loaded, naming the tensor.
pub fn check_finite(bytes: &[u8]) -> std::result::Result<(), String> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a valid model file (safetensors): {e}"))?;
    for (name, view) in st.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            continue;
        }
        let bad = view.data().chunks_exact(4).position(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite());
        if let Some(i) = bad {
            return Err(format!("tensor '{name}' holds a non-finite value at element {i}"));
        }
    }
    Ok(())
}
