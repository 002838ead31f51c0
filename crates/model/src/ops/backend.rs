//! The kernels of [`super::conv`] and [`super::pool`] as operators of burn's backends, through
//! burn 0.22's backend extensions: [`FastOps`] on `Flex` (inference) and on `Autodiff<Flex>`
//! (training, with the backward passes written here), reached from `Tensor`s through `Dispatch`.

use std::borrow::Cow;
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, AutodiffBackend, Backend, Flex, TensorMetadata};
use burn::tensor::TensorData;

use super::conv::{self, ConvShape};
use super::lstm;
use super::norm::{self, NormShape};
use super::pool::{self, PoolShape};

/// Operators the models call on whatever backend their tensors live on.
#[backend_extension(Flex, Autodiff)]
pub trait FastOps: Backend {
    /// `conv(x, weight) + bias`: `x` `[B, Cin, H, W]`, `weight` `[Cout, Cin, kh, kw]`, `bias`
    /// `[Cout]`, stride 1, zero padding `[top, bottom, left, right]`.
    fn fast_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        pad: [usize; 4],
    ) -> FloatTensor<Self>;
    /// Max pooling over `kernel`-sized windows that tile the plane (stride = kernel, floor).
    fn fast_max_pool2d(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self>;
    /// A whole LSTM layer from zero state: `x` `[B, T, D]`, `weight` `[D + H, 4H]` (input rows,
    /// then hidden rows; gates input, forget, output, candidate), `bias` `[4H]` -> `[B, T, H]`.
    fn fast_lstm_layer(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self>;
    /// Per channel of `x` `[B, C, ...]`: the mean and the biased variance, `[2, C]` (a constant:
    /// no gradient flows through it).
    fn fast_channel_stats(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// Batch norm with the batch's own statistics `stats` (from [`FastOps::fast_channel_stats`]
    /// of the same `x`); its gradient accounts for the statistics depending on `x`.
    fn fast_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;
}

/// What the autodiff backend needs from the backend under it: forward passes that keep what the
/// backward pass reads, and the backward passes.
pub trait FastGrads: FastOps {
    /// `(dx, dweight, dbias)` of [`FastOps::fast_conv2d`] given the output's gradient.
    fn conv2d_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        pad: [usize; 4],
        want_dx: bool,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>, FloatTensor<Self>);
    /// [`FastOps::fast_max_pool2d`] and where each maximum came from.
    fn max_pool2d_with_argmax(x: FloatTensor<Self>, kernel: [usize; 2]) -> (FloatTensor<Self>, Argmax);
    fn max_pool2d_backward(dy: FloatTensor<Self>, argmax: &Argmax) -> FloatTensor<Self>;
    /// [`FastOps::fast_lstm_layer`] and what its backward pass reads.
    fn lstm_layer_with_trace(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, LstmTrace);
    /// `(dx, dweight, dbias)` of [`FastOps::fast_lstm_layer`].
    fn lstm_layer_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        trace: &LstmTrace,
        d_hs: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
    /// `(dx, dgamma, dbeta)` of [`FastOps::fast_batch_norm_train`].
    fn batch_norm_grads(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        epsilon: f64,
        dy: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// The pooling's geometry and each output's index in its input plane.
#[derive(Debug, Clone)]
pub struct Argmax {
    shape: PoolShape,
    at: Arc<Vec<u32>>,
}

/// An LSTM layer's run as its backward pass needs it.
#[derive(Debug, Clone)]
pub struct LstmTrace {
    layer: lstm::Layer,
    trace: Arc<lstm::Trace>,
}

// ---------------------------------------------------------------------------------------------
// Flex: plain slices in and out.

/// The tensor's values in row-major order (borrowed when already laid out so).
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.layout().contiguous_offsets() {
        Some((from, to)) => Cow::Borrowed(&t.storage::<f32>()[from..to]),
        None => Cow::Owned(t.to_contiguous().storage::<f32>().to_vec()),
    }
}

fn dims4(t: &FlexTensor) -> [usize; 4] {
    let s = t.shape();
    assert_eq!(s.num_dims(), 4, "expected a 4-d tensor, got {s:?}");
    [s[0], s[1], s[2], s[3]]
}

fn norm_shape(x: &FlexTensor) -> NormShape {
    let s = x.shape();
    assert!(s.num_dims() >= 2, "batch norm: expected [B, C, ...], got {s:?}");
    NormShape { batch: s[0], channels: s[1], spatial: s.iter().skip(2).product() }
}

/// The `[2, C]` statistics as (mean, variance) slices.
fn split_stats(stats: &[f32]) -> (&[f32], &[f32]) {
    stats.split_at(stats.len() / 2)
}

fn flex<const N: usize>(v: Vec<f32>, shape: [usize; N]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape))
}

fn conv_shape(x: &FlexTensor, weight: &FlexTensor, pad: [usize; 4]) -> ConvShape {
    let ([batch, cin, h, w], [cout, wcin, kh, kw]) = (dims4(x), dims4(weight));
    assert_eq!(cin, wcin, "conv2d: input has {cin} channels, weights expect {wcin}");
    ConvShape { batch, cin, h, w, cout, kh, kw, pad }
}

fn pool_shape(x: &FlexTensor, [kh, kw]: [usize; 2]) -> ([usize; 4], PoolShape) {
    let [b, c, h, w] = dims4(x);
    ([b, c, h / kh.max(1), w / kw.max(1)], PoolShape { planes: b * c, h, w, kh, kw })
}

/// An LSTM layer on Flex; the trace only when a backward pass will read it.
fn lstm_layer(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, keep_trace: bool) -> (FlexTensor, LstmTrace) {
    let (xs, ws) = (x.shape(), weight.shape());
    assert!(xs.num_dims() == 3 && ws.num_dims() == 2, "lstm layer: x [B, T, D], weight [D + H, 4H]");
    let hidden = ws[1] / 4;
    let layer = lstm::Layer { batch: xs[0], steps: xs[1], input: xs[2], hidden };
    let (hs, trace) = layer.forward(&values(&x), &values(&weight), &values(&bias), keep_trace);
    (flex(hs, [layer.batch, layer.steps, hidden]), LstmTrace { layer, trace: Arc::new(trace) })
}

impl FastOps for Flex {
    fn fast_conv2d(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, pad: [usize; 4]) -> FlexTensor {
        let s = conv_shape(&x, &weight, pad);
        let y = conv::forward(&s, &values(&x), &values(&weight), &values(&bias));
        flex(y, [s.batch, s.cout, s.out_h(), s.out_w()])
    }
    fn fast_max_pool2d(x: FlexTensor, kernel: [usize; 2]) -> FlexTensor {
        let (out, s) = pool_shape(&x, kernel);
        flex(pool::forward(&s, &values(&x)), out)
    }
    fn fast_lstm_layer(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        lstm_layer(x, weight, bias, false).0
    }
    fn fast_channel_stats(x: FlexTensor) -> FlexTensor {
        let s = norm_shape(&x);
        let (mut mean, var) = norm::stats(&s, &values(&x));
        mean.extend(var);
        flex(mean, [2, s.channels])
    }
    fn fast_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        stats: FlexTensor,
        epsilon: f64,
    ) -> FlexTensor {
        let s = norm_shape(&x);
        let stats = values(&stats);
        let (mean, var) = split_stats(&stats);
        let y = norm::forward(&s, &values(&x), &values(&gamma), &values(&beta), mean, var, epsilon);
        FlexTensor::from_data(TensorData::new(y, x.shape()))
    }
}

impl FastGrads for Flex {
    fn conv2d_backward(
        x: FlexTensor,
        weight: FlexTensor,
        dy: FlexTensor,
        pad: [usize; 4],
        want_dx: bool,
    ) -> (Option<FlexTensor>, FlexTensor, FlexTensor) {
        let s = conv_shape(&x, &weight, pad);
        let (dx, dw, db) = conv::backward(&s, &values(&x), &values(&weight), &values(&dy), want_dx);
        (dx.map(|dx| flex(dx, [s.batch, s.cin, s.h, s.w])), flex(dw, [s.cout, s.cin, s.kh, s.kw]), flex(db, [s.cout]))
    }
    fn max_pool2d_with_argmax(x: FlexTensor, kernel: [usize; 2]) -> (FlexTensor, Argmax) {
        let (out, shape) = pool_shape(&x, kernel);
        let (y, at) = pool::forward_with_argmax(&shape, &values(&x));
        (flex(y, out), Argmax { shape, at: Arc::new(at) })
    }
    fn max_pool2d_backward(dy: FlexTensor, argmax: &Argmax) -> FlexTensor {
        let s = argmax.shape;
        let [_, c, _, _] = dims4(&dy);
        let dx = pool::backward(&s, &values(&dy), &argmax.at);
        flex(dx, [s.planes / c.max(1), c, s.h, s.w])
    }
    fn lstm_layer_with_trace(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> (FlexTensor, LstmTrace) {
        lstm_layer(x, weight, bias, true)
    }
    fn lstm_layer_backward(
        x: FlexTensor,
        weight: FlexTensor,
        t: &LstmTrace,
        d_hs: FlexTensor,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let l = t.layer;
        let (dx, dw, db) = l.backward(&values(&x), &values(&weight), &t.trace, &values(&d_hs));
        let g4 = 4 * l.hidden;
        (flex(dx, [l.batch, l.steps, l.input]), flex(dw, [l.input + l.hidden, g4]), flex(db, [g4]))
    }
    fn batch_norm_grads(
        x: FlexTensor,
        gamma: FlexTensor,
        stats: FlexTensor,
        epsilon: f64,
        dy: FlexTensor,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let s = norm_shape(&x);
        let stats = values(&stats);
        let (mean, var) = split_stats(&stats);
        let (dx, dg, db) = norm::backward(&s, &values(&x), &values(&gamma), mean, var, epsilon, &values(&dy));
        (FlexTensor::from_data(TensorData::new(dx, x.shape())), flex(dg, [s.channels]), flex(db, [s.channels]))
    }
}

// ---------------------------------------------------------------------------------------------
// Autodiff: the forward pass on the inner backend, recording what the backward pass needs.

#[derive(Debug)]
struct ConvBackward;

impl<B: FastGrads> Backward<B, 3> for ConvBackward {
    /// (x, weight, padding).
    type State = (FloatTensor<B>, FloatTensor<B>, [usize; 4]);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, weight, pad) = ops.state;
        let (dx, dw, db) = B::conv2d_backward(x, weight, dy, pad, node_x.is_some());
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_w {
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_b {
            grads.register::<B>(node.id, db);
        }
    }
}

#[derive(Debug)]
struct PoolBackward;

impl<B: FastGrads> Backward<B, 1> for PoolBackward {
    type State = Argmax;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::max_pool2d_backward(dy, &ops.state));
        }
    }
}

#[derive(Debug)]
struct LstmLayerBackward;

impl<B: FastGrads> Backward<B, 3> for LstmLayerBackward {
    /// (x, weight, the run).
    type State = (FloatTensor<B>, FloatTensor<B>, LstmTrace);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let d_hs = grads.consume::<B>(&ops.node);
        let (x, weight, trace) = ops.state;
        let (dx, dw, db) = B::lstm_layer_backward(x, weight, &trace, d_hs);
        for (node, grad) in [(node_x, dx), (node_w, dw), (node_b, db)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

#[derive(Debug)]
struct BatchNormBackward;

impl<B: FastGrads> Backward<B, 3> for BatchNormBackward {
    /// (x, gamma, statistics, epsilon).
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, gamma, stats, epsilon) = ops.state;
        let (dx, dgamma, dbeta) = B::batch_norm_grads(x, gamma, stats, epsilon, dy);
        for (node, grad) in [(node_x, dx), (node_gamma, dgamma), (node_beta, dbeta)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: FastGrads, C: CheckpointStrategy> FastOps for Autodiff<B, C> {
    fn fast_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        pad: [usize; 4],
    ) -> FloatTensor<Self> {
        match ConvBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (x, w, b) = (x.into_primitive(), weight.into_primitive(), bias.into_primitive());
                let y = B::fast_conv2d(x.clone(), w.clone(), b, pad);
                prep.finish((x, w, pad), y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::fast_conv2d(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), pad))
            }
        }
    }

    fn fast_max_pool2d(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self> {
        match PoolBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (y, argmax) = B::max_pool2d_with_argmax(x.into_primitive(), kernel);
                prep.finish(argmax, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fast_max_pool2d(x.into_primitive(), kernel)),
        }
    }

    fn fast_channel_stats(x: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as AutodiffBackend>::from_inner(B::fast_channel_stats(x.into_primitive()))
    }

    fn fast_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let stats = stats.into_primitive();
        match BatchNormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (x, gamma) = (x.into_primitive(), gamma.into_primitive());
                let y =
                    B::fast_batch_norm_train(x.clone(), gamma.clone(), beta.into_primitive(), stats.clone(), epsilon);
                prep.finish((x, gamma, stats, epsilon), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fast_batch_norm_train(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                stats,
                epsilon,
            )),
        }
    }

    fn fast_lstm_layer(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        match LstmLayerBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (x, w) = (x.into_primitive(), weight.into_primitive());
                let (hs, trace) = B::lstm_layer_with_trace(x.clone(), w.clone(), bias.into_primitive());
                prep.finish((x, w, trace), hs)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::fast_lstm_layer(x.into_primitive(), weight.into_primitive(), bias.into_primitive()))
            }
        }
    }
}
