//! musicnn (Pons & Serra, ISMIR 2019 LBD): the pre-trained music tagging network, in burn.
//!
//! The architecture of the `musicnn` 0.1.0 wheel (`build_musicnn`), with its TensorFlow weights
//! converted by `models/musicnn/convert.py` and embedded here (ISC licence, Music Technology Group,
//! Universitat Pompeu Fabra; see `models/musicnn/README.md`). Input: a window of the musicnn
//! log-mel, `[B, 96 mels, 187 frames]` (16 kHz, n_fft 512, hop 256, log10(10000 x + 1)).
//!
//! - [`Frontend`]: musically motivated convolutions: two timbral (7x38, 7x67 over time x mel, 204
//!   filters) and three temporal (128x1, 64x1, 32x1, 51 filters) branches, each conv -> ReLU ->
//!   batch norm -> max over mel, concatenated: `[B, 561, T]`.
//! - [`Backend`]: the mid-end (three 64-filter 7-frame convolutions with residual and dense
//!   connections: `[B, 753, T]`, time kept, hence per-frame Grad-CAM), max + mean pooling over
//!   time (1506), batch norm, dense 200, ReLU, batch norm: the 200-d embedding.
//! - [`Musicnn`]: both, plus the 50-tag output layer.
//!
//! Batch norm always runs with the stored statistics (inference mode), also when fine-tuning:
//! small genre batches would otherwise overwrite statistics learned on a million songs.

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig1d, PaddingConfig2d};
use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::activation::relu;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::kernels::ConvMaxMel;
use crate::{ModelError, Result};

/// Input frames per window (3 s at 16 kHz, hop 256).
pub const FRAMES: usize = 187;
pub const N_MELS: usize = 96;
pub const SAMPLE_RATE: u32 = 16000;
pub const N_FFT: usize = 512;
pub const HOP: usize = 256;
/// Channels of the front-end output, the mid-end output, the pooled vector and the embedding.
pub const FRONTEND_DIM: usize = 561;
pub const MIDEND_DIM: usize = 753;
pub const POOLED_DIM: usize = 2 * MIDEND_DIM;
pub const EMBEDDING_DIM: usize = 200;
/// TensorFlow's `tf.layers.batch_normalization` default.
const BN_EPSILON: f64 = 1e-3;

/// Which pre-trained model: trained on the Million Song Dataset's Last.fm tags, or on
/// MagnaTagATune's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    Msd,
    Mtt,
}

impl std::str::FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "msd" | "msd_musicnn" => Ok(Variant::Msd),
            "mtt" | "mtt_musicnn" => Ok(Variant::Mtt),
            _ => Err(format!("unknown musicnn model '{s}' (msd, mtt)")),
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Variant::Msd => "msd",
            Variant::Mtt => "mtt",
        })
    }
}

impl Variant {
    /// The 50 tags in output order (the wheel's `configuration.py`).
    pub fn labels(self) -> &'static [&'static str; 50] {
        match self {
            Variant::Msd => &MSD_LABELS,
            Variant::Mtt => &MTT_LABELS,
        }
    }

    /// The converted weights (safetensors), embedded at build time.
    pub fn weights(self) -> &'static [u8] {
        match self {
            Variant::Msd => include_bytes!("../../../models/musicnn/msd.safetensors"),
            Variant::Mtt => include_bytes!("../../../models/musicnn/mtt.safetensors"),
        }
    }
}

pub const MSD_LABELS: [&str; 50] = [
    "rock",
    "pop",
    "alternative",
    "indie",
    "electronic",
    "female vocalists",
    "dance",
    "00s",
    "alternative rock",
    "jazz",
    "beautiful",
    "metal",
    "chillout",
    "male vocalists",
    "classic rock",
    "soul",
    "indie rock",
    "Mellow",
    "electronica",
    "80s",
    "folk",
    "90s",
    "chill",
    "instrumental",
    "punk",
    "oldies",
    "blues",
    "hard rock",
    "ambient",
    "acoustic",
    "experimental",
    "female vocalist",
    "guitar",
    "Hip-Hop",
    "70s",
    "party",
    "country",
    "easy listening",
    "sexy",
    "catchy",
    "funk",
    "electro",
    "heavy metal",
    "Progressive rock",
    "60s",
    "rnb",
    "indie pop",
    "sad",
    "House",
    "happy",
];

pub const MTT_LABELS: [&str; 50] = [
    "guitar",
    "classical",
    "slow",
    "techno",
    "strings",
    "drums",
    "electronic",
    "rock",
    "fast",
    "piano",
    "ambient",
    "beat",
    "violin",
    "vocal",
    "synth",
    "female",
    "indian",
    "opera",
    "male",
    "singing",
    "vocals",
    "no vocals",
    "harpsichord",
    "loud",
    "quiet",
    "flute",
    "woman",
    "male vocal",
    "no vocal",
    "pop",
    "soft",
    "sitar",
    "solo",
    "man",
    "classic",
    "choir",
    "voice",
    "new age",
    "dance",
    "male voice",
    "female vocal",
    "beats",
    "harp",
    "cello",
    "no voice",
    "weird",
    "country",
    "metal",
    "female voice",
    "choral",
];

/// Which activation to return as an embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// The 200-d penultimate layer (dense -> ReLU -> batch norm): musicnn's usual embedding.
    Penultimate,
    /// The 1506 max+mean pooled mid-end features.
    Pooled,
    /// The 50 tag probabilities.
    Taggram,
}

impl std::str::FromStr for Layer {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_lowercase()))
            .map_err(|_| format!("unknown layer '{s}' (penultimate, pooled, taggram)"))
    }
}

impl Layer {
    pub fn dim(self) -> usize {
        match self {
            Layer::Penultimate => EMBEDDING_DIM,
            Layer::Pooled => POOLED_DIM,
            Layer::Taggram => 50,
        }
    }
}

fn bn(n: usize, d: &Device) -> BatchNorm {
    // Frozen: always the stored statistics (see the module comment).
    BatchNormConfig::new(n).with_epsilon(BN_EPSILON).init(d).freeze()
}

/// conv -> ReLU -> batch norm -> max over the mel axis.
#[derive(Module, Debug)]
pub struct Branch {
    conv: Conv2d,
    bn: BatchNorm,
}

impl Branch {
    /// `kernel` = [time, mel]; the time axis is padded as TensorFlow's 'same' does (floor((k-1)/2)
    /// frames before, the rest after), the mel axis not at all ('valid').
    fn new(filters: usize, kernel: [usize; 2], d: &Device) -> Self {
        let before = (kernel[0] - 1) / 2;
        let after = kernel[0] - 1 - before;
        Self {
            conv: Conv2dConfig::new([1, filters], kernel)
                .with_padding(PaddingConfig2d::Explicit(before, 0, after, 0))
                .init(d),
            bn: bn(filters, d),
        }
    }

    /// `[B, 1, T, mels]` -> `[B, filters, T]` (burn's layers; differentiable).
    fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        let y = self.bn.forward(relu(self.conv.forward(x)));
        let [b, c, t, _] = y.dims();
        y.max_dim(3).reshape([b, c, t])
    }

    /// The layer as the fast path's kernel ([`ConvMaxMel`]): taken once per batch.
    fn fast(&self) -> ConvMaxMel {
        let [f, _, kt, km] = self.conv.weight.val().dims();
        let (scale, shift) = bn_affine(&self.bn);
        let bias = self.conv.bias.as_ref().map(|b| to_vec(b.val())).unwrap_or(vec![0.0; f]);
        ConvMaxMel::new(to_vec(self.conv.weight.val()), bias, scale, shift, kt, km)
    }
}

/// A frozen batch norm as `y = scale x + shift` per channel.
fn bn_affine(bn: &BatchNorm) -> (Vec<f32>, Vec<f32>) {
    let (g, b) = (to_vec(bn.gamma.val()), to_vec(bn.beta.val()));
    let (mean, var) = (to_vec(bn.running_mean.value()), to_vec(bn.running_var.value()));
    let scale: Vec<f32> = g.iter().zip(&var).map(|(g, v)| g / (v + BN_EPSILON as f32).sqrt()).collect();
    let shift = b.iter().zip(&mean).zip(&scale).map(|((b, m), s)| b - m * s).collect();
    (scale, shift)
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 tensor")
}

#[derive(Module, Debug)]
pub struct Frontend {
    input_bn: BatchNorm,
    timbral: Vec<Branch>,
    temporal: Vec<Branch>,
}

impl Frontend {
    fn new(d: &Device) -> Self {
        // int(1.6 * 128) = 204 timbral filters over int(0.4 * 96) = 38 and int(0.7 * 96) = 67
        // mel bands; int(1.6 * 32) = 51 temporal filters.
        Self {
            input_bn: bn(1, d),
            timbral: vec![Branch::new(204, [7, 38], d), Branch::new(204, [7, 67], d)],
            temporal: vec![Branch::new(51, [128, 1], d), Branch::new(51, [64, 1], d), Branch::new(51, [32, 1], d)],
        }
    }

    /// `[B, mels, T]` -> `[B, 561, T]`.
    /// The pre-trained front end is never trained (fine-tuning starts at the mid-end), so it
    /// runs on the fast path of [`crate::kernels::ConvMaxMel`], item by item (bounded memory).
    /// Measured (1 thread, musicnn-MSD, one window, whole network): 61 ms with burn's tensors
    /// around one matrix product per branch, 23 ms with the kernel (README: Speed).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, m, t] = x.dims();
        let d = x.device();
        let (scale, shift) = bn_affine(&self.input_bn);
        let branches: Vec<ConvMaxMel> = self.timbral.iter().chain(&self.temporal).map(Branch::fast).collect();
        // (time, mel) as the image's (height, width), as the TensorFlow graph has it.
        let mut x = to_vec(x.swap_dims(1, 2)); // [B, T, mels]
        x.iter_mut().for_each(|v| *v = *v * scale[0] + shift[0]);
        // Every (item, branch) in parallel: a lone window still keeps two cores busy, and
        // item-major order makes the concatenation `[B, 561, T]`.
        let nb = branches.len();
        let maps: Vec<Vec<f32>> =
            (0..b * nb).into_par_iter().map(|j| branches[j % nb].run(&x[j / nb * t * m..][..t * m], t, m)).collect();
        Tensor::from_data(TensorData::new(maps.concat(), [b, FRONTEND_DIM, t]), &d)
    }

    /// The first timbral branch's convolution maps (after ReLU) `[B, 204, T, 59]`: what the
    /// network's first layer sees in a window.
    pub fn first_maps(&self, x: Tensor<3>) -> Tensor<4> {
        let [b, m, t] = x.dims();
        let x = self.input_bn.forward(x.swap_dims(1, 2).reshape([b, 1, t, m]));
        relu(self.timbral[0].conv.forward(x)).swap_dims(2, 3) // [B, F, mel, T]: frequency up, time along
    }

    /// Through burn's own layers (the reference for the fast path; differentiable).
    pub fn forward_layers(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, m, t] = x.dims();
        let x = self.input_bn.forward(x.swap_dims(1, 2).reshape([b, 1, t, m]));
        let maps: Vec<Tensor<3>> = self.timbral.iter().chain(&self.temporal).map(|br| br.forward(x.clone())).collect();
        Tensor::cat(maps, 1)
    }
}

/// A mid-end layer: a 7-frame convolution over all channels -> ReLU -> batch norm.
#[derive(Module, Debug)]
pub struct MidLayer {
    conv: Conv1d,
    bn: BatchNorm,
}

impl MidLayer {
    fn new(cin: usize, d: &Device) -> Self {
        Self {
            conv: Conv1dConfig::new(cin, 64, 7).with_padding(PaddingConfig1d::Explicit(3, 3)).init(d),
            bn: bn(64, d),
        }
    }
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.bn.forward(relu(crate::ops::conv1d(&self.conv, x)))
    }
}

#[derive(Module, Debug)]
pub struct Backend {
    midend: Vec<MidLayer>,
    pool_bn: BatchNorm,
    dense: Linear,
    dense_bn: BatchNorm,
}

/// Batch norm of `[B, F]` features (burn's norm wants a channel axis).
fn bn_rows(n: &BatchNorm, x: Tensor<2>) -> Tensor<2> {
    let [b, f] = x.dims();
    n.forward(x.reshape([b, f, 1])).reshape([b, f])
}

impl Backend {
    fn new(d: &Device) -> Self {
        Self {
            midend: vec![MidLayer::new(FRONTEND_DIM, d), MidLayer::new(64, d), MidLayer::new(64, d)],
            pool_bn: bn(POOLED_DIM, d),
            dense: LinearConfig::new(POOLED_DIM, EMBEDDING_DIM).init(d),
            dense_bn: bn(EMBEDDING_DIM, d),
        }
    }

    /// Front-end features `[B, 561, T]` -> the dense mid-end output `[B, 753, T]` (front-end,
    /// then each mid-end layer; the second and third add their input: residual connections).
    pub fn midend(&self, f: Tensor<3>) -> Tensor<3> {
        let c1 = self.midend[0].forward(f.clone());
        let c2 = self.midend[1].forward(c1.clone()) + c1.clone();
        let c3 = self.midend[2].forward(c2.clone()) + c2.clone();
        Tensor::cat(vec![f, c1, c2, c3], 1)
    }

    /// `[B, 753, T]` -> `[B, 1506]`: per channel, max over time then mean over time, interleaved
    /// (TensorFlow concatenates `[B, 753, 1]` pools on the last axis, then flattens).
    pub fn pool(m: Tensor<3>) -> Tensor<2> {
        let [b, c, _] = m.dims();
        Tensor::cat(vec![m.clone().max_dim(2), m.mean_dim(2)], 2).reshape([b, 2 * c])
    }

    /// Pooled features -> the 200-d embedding (dropout is off at inference and not re-added).
    pub fn embed_pooled(&self, pooled: Tensor<2>) -> Tensor<2> {
        bn_rows(&self.dense_bn, relu(self.dense.forward(bn_rows(&self.pool_bn, pooled))))
    }

    /// Front-end features -> the 200-d embedding.
    pub fn forward(&self, f: Tensor<3>) -> Tensor<2> {
        self.embed_pooled(Self::pool(self.midend(f)))
    }
}

/// The whole pre-trained network.
#[derive(Module, Debug)]
pub struct Musicnn {
    pub frontend: Frontend,
    pub backend: Backend,
    tags: Linear,
}

/// Every named activation of one forward pass.
pub struct Activations {
    pub frontend: Tensor<3>,
    pub midend: Tensor<3>,
    pub pooled: Tensor<2>,
    pub penultimate: Tensor<2>,
    /// Tag logits (sigmoid gives the taggram).
    pub logits: Tensor<2>,
}

impl Musicnn {
    /// The structure with untrained weights (filled by [`Musicnn::pretrained`] or a load).
    pub fn new(d: &Device) -> Self {
        Self {
            frontend: Frontend::new(d),
            backend: Backend::new(d),
            tags: LinearConfig::new(EMBEDDING_DIM, 50).init(d),
        }
    }

    /// The embedded pre-trained weights.
    pub fn pretrained(v: Variant, d: &Device) -> Result<Self> {
        Self::load_bytes(v.weights(), d, &format!("<embedded musicnn {v}>"))
    }

    /// Fill from safetensors bytes; a file that does not fit (missing, extra or misshapen
    /// tensors) or holds non-finite weights is refused with the reason.
    pub fn load_bytes(bytes: &[u8], d: &Device, origin: &str) -> Result<Self> {
        let bad = |msg: String| ModelError::File { path: origin.into(), msg };
        crate::net::check_finite(bytes).map_err(bad)?;
        let mut net = Self::new(d);
        let r = net
            .load_from(&mut SafetensorsStore::from_bytes(Some(bytes.to_vec())))
            .map_err(|e| bad(format!("not a valid musicnn weights file: {e}")))?;
        if !r.errors.is_empty() || !r.missing.is_empty() || !r.unused.is_empty() {
            return Err(bad(format!(
                "weights do not fit musicnn: missing {:?}, unused {:?}, errors {:?}",
                r.missing, r.unused, r.errors
            )));
        }
        Ok(net)
    }

    pub fn activations(&self, x: Tensor<3>) -> Activations {
        let frontend = self.frontend.forward(x);
        let midend = self.backend.midend(frontend.clone());
        let pooled = Backend::pool(midend.clone());
        let penultimate = self.backend.embed_pooled(pooled.clone());
        let logits = self.tags.forward(penultimate.clone());
        Activations { frontend, midend, pooled, penultimate, logits }
    }

    /// The taggram `[B, 50]` (tag probabilities) of penultimate activations `[B, 200]`: the
    /// tags of a window whose embedding is already computed, for one small product.
    pub fn taggram_of(&self, penultimate: Tensor<2>) -> Tensor<2> {
        burn::tensor::activation::sigmoid(self.tags.forward(penultimate))
    }

    /// One layer's output `[B, dim]` for a batch of log-mel windows `[B, 96, T]`.
    pub fn embed(&self, x: Tensor<3>, layer: Layer) -> Tensor<2> {
        self.embed_frontend(self.frontend.forward(x), layer)
    }

    /// [`Musicnn::embed`] through burn's own front-end layers: slower, but differentiable down
    /// to the input (input attributions need the gradient of a log-mel window).
    pub fn embed_differentiable(&self, x: Tensor<3>, layer: Layer) -> Tensor<2> {
        self.embed_frontend(self.frontend.forward_layers(x), layer)
    }

    /// One layer's output from the front end's maps `[B, 561, T]`.
    fn embed_frontend(&self, frontend: Tensor<3>, layer: Layer) -> Tensor<2> {
        let pooled = Backend::pool(self.backend.midend(frontend));
        if layer == Layer::Pooled {
            return pooled;
        }
        let pen = self.backend.embed_pooled(pooled);
        match layer {
            Layer::Taggram => burn::tensor::activation::sigmoid(self.tags.forward(pen)),
            _ => pen,
        }
    }
}
