//! The model families. Shapes: input `[B, rows, cols]` = (mel bands or coefficients) x frames.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig,
    PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::musicnn::{self, Variant};
use crate::ops::{batch_norm, conv2d, max_pool2d};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// 3 conv blocks of 32 filters (conv, ReLU, max-pool, batch norm), dense 64, dropout 0.5.
    Cnn,
    /// Residual blocks with batch norm, global average pooling.
    Resnet,
    /// 2-layer LSTM(64) over frames, dense 64.
    Lstm,
    /// Conv front end pooling frequency away, GRU(64) over time (Choi et al. 2017).
    Crnn,
    /// MLP on a feature vector (the 57 GTZAN features).
    Features,
    /// A new head on the pre-trained musicnn network (frozen, or fine-tuned mid- and back-end).
    Musicnn,
}

impl std::str::FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_lowercase()))
            .map_err(|_| format!("unknown model '{s}' (cnn, resnet, lstm, crnn, features, musicnn)"))
    }
}

/// Everything needed to rebuild a model's structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchConfig {
    pub family: Family,
    pub rows: usize,
    pub cols: usize,
    pub n_classes: usize,
    /// Musicnn family: which pre-trained network, and whether its mid-end and back-end train too
    /// (the input is then the cached front-end output `[561, frames]`, not the 200-d embedding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backbone: Option<Variant>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub finetune: bool,
}

impl ArchConfig {
    pub fn new(family: Family, rows: usize, cols: usize, n_classes: usize) -> Self {
        Self { family, rows, cols, n_classes, backbone: None, finetune: false }
    }
}

fn bn(n: usize, d: &Device) -> BatchNorm {
    BatchNormConfig::new(n).with_epsilon(1e-3).with_momentum(0.1).init(d)
}

fn conv(cin: usize, cout: usize, d: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3]).with_padding(PaddingConfig2d::Same).init(d)
}

/// `[B, rows, cols]` -> `[B, 1, rows, cols]`.
fn as_image(x: Tensor<3>) -> Tensor<4> {
    let [b, r, c] = x.dims();
    x.reshape([b, 1, r, c])
}

/// Global average pool `[B, C, H, W]` -> `[B, C]`.
fn gap(f: Tensor<4>) -> Tensor<2> {
    let [b, c, _, _] = f.dims();
    f.mean_dim(3).mean_dim(2).reshape([b, c])
}

// ---------------------------------------------------------------------------------------------

#[derive(Module, Debug)]
pub struct Cnn {
    c1: Conv2d,
    b1: BatchNorm,
    c2: Conv2d,
    b2: BatchNorm,
    c3: Conv2d,
    b3: BatchNorm,
    pool: MaxPool2d,
    fc1: Linear,
    drop: Dropout,
    fc2: Linear,
}

impl Cnn {
    pub fn new(a: &ArchConfig, d: &Device) -> Self {
        let (h, w) = (a.rows / 8, a.cols / 8);
        Self {
            c1: conv(1, 32, d),
            b1: bn(32, d),
            c2: conv(32, 32, d),
            b2: bn(32, d),
            c3: conv(32, 32, d),
            b3: bn(32, d),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(32 * h.max(1) * w.max(1), 64).init(d),
            drop: DropoutConfig::new(0.5).init(),
            fc2: LinearConfig::new(64, a.n_classes).init(d),
        }
    }
    /// The last conv block's output `[B, 32, rows/8, cols/8]` (Grad-CAM target).
    pub fn features(&self, x: Tensor<3>) -> Tensor<4> {
        let x = as_image(x);
        let x = batch_norm(&self.b1, max_pool2d(&self.pool, relu(conv2d(&self.c1, x))));
        let x = batch_norm(&self.b2, max_pool2d(&self.pool, relu(conv2d(&self.c2, x))));
        batch_norm(&self.b3, max_pool2d(&self.pool, relu(conv2d(&self.c3, x))))
    }
    /// The first convolution's maps (after ReLU) `[B, 32, rows, cols]`.
    pub fn first_maps(&self, x: Tensor<3>) -> Tensor<4> {
        relu(conv2d(&self.c1, as_image(x)))
    }
    pub fn head(&self, f: Tensor<4>) -> Tensor<2> {
        let [b, c, h, w] = f.dims();
        let x = self.drop.forward(relu(self.fc1.forward(f.reshape([b, c * h * w]))));
        self.fc2.forward(x)
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Module, Debug)]
pub struct ResBlock {
    c1: Conv2d,
    b1: BatchNorm,
    c2: Conv2d,
    b2: BatchNorm,
    proj: Option<Conv2d>,
}

impl ResBlock {
    fn new(cin: usize, cout: usize, d: &Device) -> Self {
        Self {
            c1: conv(cin, cout, d),
            b1: bn(cout, d),
            c2: conv(cout, cout, d),
            b2: bn(cout, d),
            proj: (cin != cout).then(|| Conv2dConfig::new([cin, cout], [1, 1]).init(d)),
        }
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let skip = match &self.proj {
            Some(p) => conv2d(p, x.clone()),
            None => x.clone(),
        };
        let y = relu(batch_norm(&self.b1, conv2d(&self.c1, x)));
        relu(batch_norm(&self.b2, conv2d(&self.c2, y)) + skip)
    }
}

#[derive(Module, Debug)]
pub struct Resnet {
    stem: Conv2d,
    stem_bn: BatchNorm,
    blocks: Vec<ResBlock>,
    pool: MaxPool2d,
    fc: Linear,
}

impl Resnet {
    pub fn new(a: &ArchConfig, d: &Device) -> Self {
        Self {
            stem: conv(1, 16, d),
            stem_bn: bn(16, d),
            blocks: vec![ResBlock::new(16, 16, d), ResBlock::new(16, 32, d), ResBlock::new(32, 64, d)],
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc: LinearConfig::new(64, a.n_classes).init(d),
        }
    }
    /// The stem convolution's maps (after batch norm and ReLU).
    pub fn first_maps(&self, x: Tensor<3>) -> Tensor<4> {
        relu(batch_norm(&self.stem_bn, conv2d(&self.stem, as_image(x))))
    }
    pub fn features(&self, x: Tensor<3>) -> Tensor<4> {
        let mut x = max_pool2d(&self.pool, relu(batch_norm(&self.stem_bn, conv2d(&self.stem, as_image(x)))));
        for (i, b) in self.blocks.iter().enumerate() {
            x = b.forward(x);
            if i + 1 < self.blocks.len() {
                x = max_pool2d(&self.pool, x);
            }
        }
        x
    }
    pub fn head(&self, f: Tensor<4>) -> Tensor<2> {
        self.fc.forward(gap(f))
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Module, Debug)]
pub struct LstmNet {
    l1: Lstm,
    l2: Lstm,
    fc1: Linear,
    fc2: Linear,
}

impl LstmNet {
    pub fn new(a: &ArchConfig, d: &Device) -> Self {
        Self {
            l1: LstmConfig::new(a.rows, 64, true).init(d),
            l2: LstmConfig::new(64, 64, true).init(d),
            fc1: LinearConfig::new(64, 64).init(d),
            fc2: LinearConfig::new(64, a.n_classes).init(d),
        }
    }
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, _, _] = x.dims();
        let seq = x.swap_dims(1, 2); // [B, frames, coefficients]
        let h2 = crate::rnn::lstm_sequence(&self.l2, crate::rnn::lstm_sequence(&self.l1, seq));
        let [_, frames, hidden] = h2.dims();
        let last = match frames {
            0 => Tensor::zeros([b, 64], &self.fc1.weight.device()),
            _ => h2.slice(s![.., frames - 1..frames, ..]).reshape([b, hidden]),
        };
        self.fc2.forward(relu(self.fc1.forward(last)))
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Module, Debug)]
pub struct Crnn {
    c1: Conv2d,
    b1: BatchNorm,
    c2: Conv2d,
    b2: BatchNorm,
    c3: Conv2d,
    b3: BatchNorm,
    pool: MaxPool2d,
    pool_freq: MaxPool2d,
    gru: Gru,
    fc: Linear,
}

impl Crnn {
    pub fn new(a: &ArchConfig, d: &Device) -> Self {
        Self {
            c1: conv(1, 32, d),
            b1: bn(32, d),
            c2: conv(32, 64, d),
            b2: bn(64, d),
            c3: conv(64, 64, d),
            b3: bn(64, d),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            pool_freq: MaxPool2dConfig::new([4, 1]).with_strides([4, 1]).init(),
            gru: GruConfig::new(64, 64, true).init(d),
            fc: LinearConfig::new(64, a.n_classes).init(d),
        }
    }
    /// The first convolution's maps (after batch norm and ReLU).
    pub fn first_maps(&self, x: Tensor<3>) -> Tensor<4> {
        relu(batch_norm(&self.b1, conv2d(&self.c1, as_image(x))))
    }
    /// Last conv block `[B, 64, rows/16, cols/4]` (Grad-CAM target).
    pub fn features(&self, x: Tensor<3>) -> Tensor<4> {
        let x = max_pool2d(&self.pool, relu(batch_norm(&self.b1, conv2d(&self.c1, as_image(x)))));
        let x = max_pool2d(&self.pool, relu(batch_norm(&self.b2, conv2d(&self.c2, x))));
        max_pool2d(&self.pool_freq, relu(batch_norm(&self.b3, conv2d(&self.c3, x))))
    }
    pub fn head(&self, f: Tensor<4>) -> Tensor<2> {
        let [b, c, _, t] = f.dims();
        let seq = f.mean_dim(2).reshape([b, c, t]).swap_dims(1, 2); // [B, time, channels]
        let out = self.gru.forward(seq, None); // [B, time, hidden]
        let [_, steps, hidden] = out.dims();
        let last = out.slice(s![.., steps - 1..steps, ..]).reshape([b, hidden]);
        self.fc.forward(last)
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Module, Debug)]
pub struct Mlp {
    fc1: Linear,
    b1: BatchNorm,
    fc2: Linear,
    b2: BatchNorm,
    drop: Dropout,
    fc3: Linear,
}

impl Mlp {
    pub fn new(a: &ArchConfig, d: &Device) -> Self {
        Self {
            fc1: LinearConfig::new(a.rows * a.cols, 256).init(d),
            b1: bn(256, d),
            fc2: LinearConfig::new(256, 128).init(d),
            b2: bn(128, d),
            drop: DropoutConfig::new(0.3).init(),
            fc3: LinearConfig::new(128, a.n_classes).init(d),
        }
    }
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, r, c] = x.dims();
        let x = x.reshape([b, r * c]);
        // BatchNorm over features: [B, F] -> [B, F, 1] for the norm, back after.
        let norm = |n: &BatchNorm, x: Tensor<2>| {
            let [b, f] = x.dims();
            n.forward(x.reshape([b, f, 1])).reshape([b, f])
        };
        let x = self.drop.forward(relu(norm(&self.b1, self.fc1.forward(x))));
        let x = self.drop.forward(relu(norm(&self.b2, self.fc2.forward(x))));
        self.fc3.forward(x)
    }
}

// ---------------------------------------------------------------------------------------------

/// Transfer learning on musicnn: dropout and a dense layer over the 200-d embedding. Frozen
/// backbone: the input is the embedding itself (computed once into the feature cache). Fine-tuned:
/// the input is the front-end output and the pre-trained mid-end and back-end train with the head.
#[derive(Module, Debug)]
pub struct MusicnnHead {
    backend: Option<musicnn::Backend>,
    drop: Dropout,
    fc: Linear,
}

impl MusicnnHead {
    pub fn new(a: &ArchConfig, d: &Device) -> Self {
        let backend = a.finetune.then(|| {
            let v = a.backbone.unwrap_or(Variant::Msd);
            musicnn::Musicnn::pretrained(v, d).expect("the embedded musicnn weights load (tested)").backend
        });
        let input = if a.finetune { musicnn::EMBEDDING_DIM } else { a.rows * a.cols };
        Self { backend, drop: DropoutConfig::new(0.5).init(), fc: LinearConfig::new(input, a.n_classes).init(d) }
    }

    /// Start from a head trained on the frozen backbone (the usual second stage of transfer
    /// learning). Its standardisation of the embedding is folded into the dense layer, so the
    /// fine-tuned network starts exactly where the frozen one ended: W' = W / std and
    /// b' = b - sum_i W_i mean_i / std_i.
    pub fn adopt(mut self, frozen: &MusicnnHead, mean: &[f32], std: &[f32]) -> crate::Result<Self> {
        let w = frozen.fc.weight.val();
        let [inputs, outputs] = w.dims();
        let (w, b) = (to_vec(w), frozen.fc.bias.as_ref().map(|b| to_vec(b.val())).unwrap_or(vec![0.0; outputs]));
        let per = |v: &[f32], i: usize| if v.len() == 1 { v[0] } else { v.get(i).copied().unwrap_or(f32::NAN) };
        if self.fc.weight.val().dims() != [inputs, outputs] || (mean.len() != 1 && mean.len() != inputs) {
            return Err(crate::ModelError::Invalid(format!(
                "the frozen head ({inputs} -> {outputs}) does not fit this model's head {:?}",
                self.fc.weight.val().dims()
            )));
        }
        let mut w2 = vec![0f32; inputs * outputs];
        let mut b2 = b.clone();
        for i in 0..inputs {
            let (m, sd) = (per(mean, i), per(std, i));
            for o in 0..outputs {
                w2[i * outputs + o] = w[i * outputs + o] / sd;
                b2[o] -= w[i * outputs + o] * m / sd;
            }
        }
        let d = self.fc.weight.val().device();
        self.fc.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w2, [inputs, outputs]), &d));
        self.fc.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(b2, [outputs]), &d)));
        Ok(self)
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let emb = match &self.backend {
            Some(b) => b.forward(x),
            None => {
                let [b, r, c] = x.dims();
                x.reshape([b, r * c])
            }
        };
        self.fc.forward(self.drop.forward(emb))
    }
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 tensor")
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// The cnn's conv blocks through our operators and through burn's own modules: the same
    /// output and the same gradient for every parameter (batch norm in training mode).
    #[test]
    fn cnn_features_and_gradients_equal_burns_ops() {
        let _stream = crate::device::random_stream();
        let d = crate::device::training();
        d.seed(11);
        let net = Cnn::new(&ArchConfig::new(Family::Cnn, 32, 24, 3), &d);
        let x = Tensor::<3>::random([4, 32, 24], Distribution::Normal(0.0, 1.0), &d);
        let theirs = {
            let x = as_image(x.clone());
            let x = net.b1.forward(net.pool.forward(relu(net.c1.forward(x))));
            let x = net.b2.forward(net.pool.forward(relu(net.c2.forward(x))));
            net.b3.forward(net.pool.forward(relu(net.c3.forward(x))))
        };
        let ours = net.features(x);
        let r = Tensor::<4>::random(ours.dims(), Distribution::Normal(0.0, 1.0), &d);
        let worst = (ours.clone() - theirs.clone()).abs().max().into_scalar::<f32>();
        assert!(worst < 1e-4, "features differ by {worst}");
        let (g1, g2) = ((ours * r.clone()).sum().backward(), (theirs * r).sum().backward());
        let convs = [&net.c1, &net.c2, &net.c3];
        for (i, c) in convs.iter().enumerate() {
            let (a, b) = (c.weight.grad(&g1).unwrap(), c.weight.grad(&g2).unwrap());
            let scale = b.clone().abs().max().into_scalar::<f32>();
            let worst = (a - b).abs().max().into_scalar::<f32>();
            assert!(worst <= 1e-4 * scale, "conv {i} weight gradient differs by {worst} (scale {scale})");
        }
        for (i, n) in [&net.b1, &net.b2, &net.b3].iter().enumerate() {
            let (a, b) = (n.gamma.grad(&g1).unwrap(), n.gamma.grad(&g2).unwrap());
            let worst = (a - b).abs().max().into_scalar::<f32>();
            assert!(worst <= 1e-4, "batch norm {i} gamma gradient differs by {worst}");
        }
    }
}

#[cfg(test)]
mod training_tests {
    use crate::arch::{ArchConfig, Family};
    use crate::net::Net;
    use crate::ops::REFERENCE;
    use crate::train::{self, Batch, TrainOptions};
    use burn::prelude::*;

    /// Steps of cnn training from the same start, once on our operators and once on burn's: the
    /// losses stay together (not bit-identical: the sums run in another order). This also holds
    /// the parameters' lazy initialisation to burn's order (weights, then bias).
    #[test]
    fn cnn_training_steps_follow_burns() {
        let _stream = crate::device::random_stream();
        let run = |reference: bool| -> Vec<f32> {
            REFERENCE.set(reference);
            let d = crate::device::training();
            d.seed(21);
            let arch = ArchConfig::new(Family::Cnn, 32, 24, 4);
            let mut net = Net::new(&arch, &d);
            let mut optim = train::optimizer(&TrainOptions::default());
            let weights = Tensor::<1>::ones([4], &d);
            let shape = [8, 32, 24];
            let x: Vec<f32> = (0..8 * 32 * 24).map(|i| (i * 7919 % 1000) as f32 / 500.0 - 1.0).collect();
            let y: Vec<f32> = (0..8 * 4).map(|i| f32::from(u8::from(i % 4 == (i / 4) % 4))).collect();
            let mut losses = vec![];
            for _ in 0..STEPS {
                let (next, loss, _) =
                    train::step(net, &mut optim, Batch { x: x.clone(), y: &y, shape }, &weights, false, 1e-3);
                net = next;
                losses.push(loss);
            }
            REFERENCE.set(false);
            losses
        };
        const STEPS: usize = 40;
        let (ours, theirs) = (run(false), run(true));
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1e-2), "step {i}: loss {a} vs {b}");
        }
    }
}
