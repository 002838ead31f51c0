//! Our own operators for the layers where burn-flex is slow: 2-D convolution, max pooling, batch
//! norm in training and the LSTM layer, forward and backward (see [`conv`], [`pool`], [`norm`] and
//! [`lstm`] for why). The models call [`conv2d`], [`conv1d`], [`max_pool2d`] and [`batch_norm`]
//! with burn's own modules, so the parameters, their names and saved models stay burn's; a layer
//! these kernels do not cover (strides, dilation, groups, overlapping or padded pooling, a frozen
//! or inference batch norm, another dtype) goes to burn's op instead.

pub mod backend;
pub mod conv;
pub mod lstm;
pub mod norm;
pub mod pool;

use burn::backend::Dispatch;
use burn::nn::conv::{Conv1d, Conv2d};
use burn::nn::pool::MaxPool2d;
use burn::nn::BatchNorm;
use burn::nn::{PaddingConfig1d, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::DType;

use backend::FastOps;

/// `conv.forward(x)`, on our kernels when the layer is a plain stride-1 convolution.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let plain = conv.stride == [1, 1] && conv.dilation == [1, 1] && conv.groups == 1 && x.dtype() == DType::F32;
    if !plain || reference() {
        return conv.forward(x);
    }
    let [_, _, h, w] = x.dims();
    let [kh, kw] = conv.kernel_size;
    let pad = match &conv.padding {
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Same => {
            let [top, bottom] = same_padding(kh, h);
            let [left, right] = same_padding(kw, w);
            [top, bottom, left, right]
        }
        PaddingConfig2d::Explicit(top, left, bottom, right) => [*top, *bottom, *left, *right],
    };
    // Weights before bias, as burn's forward takes them: parameters are initialised lazily, on
    // first use, from the device's random stream, so the order decides their values.
    let weight = conv.weight.val();
    let bias = conv.bias.as_ref().map(|b| b.val());
    fast_conv(x, weight, bias, pad)
}

/// `conv.forward(x)` for `[B, C, T]`, as a `1 x kernel` 2-D convolution on our kernels when the
/// layer is a plain stride-1 convolution.
pub fn conv1d(conv: &Conv1d, x: Tensor<3>) -> Tensor<3> {
    let plain = conv.stride == 1 && conv.dilation == 1 && conv.groups == 1 && x.dtype() == DType::F32;
    if !plain || reference() {
        return conv.forward(x);
    }
    let [b, c, t] = x.dims();
    let [left, right] = match &conv.padding {
        PaddingConfig1d::Valid => [0; 2],
        PaddingConfig1d::Same => same_padding(conv.kernel_size, t),
        PaddingConfig1d::Explicit(left, right) => [*left, *right],
    };
    let weight = conv.weight.val(); // before bias: see conv2d
    let [cout, cin, k] = weight.dims();
    let bias = conv.bias.as_ref().map(|b| b.val());
    let y = fast_conv(x.reshape([b, c, 1, t]), weight.reshape([cout, cin, 1, k]), bias, [0, 0, left, right]);
    let [_, _, _, t_out] = y.dims();
    y.reshape([b, cout, t_out])
}

/// `bn.forward(x)`: when it trains (an autodiff device, the layer not frozen), the batch's
/// statistics and the normalisation run on our kernels ([`norm`]), and the running statistics are
/// updated as burn's layer does; otherwise burn's own forward (the stored statistics).
pub fn batch_norm<const D: usize>(bn: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    let trains = x.device().is_autodiff() && bn.training.is_enabled() && D >= 2;
    if !trains || x.dtype() != DType::F32 || reference() {
        return bn.forward(x);
    }
    let stats = <Dispatch as FastOps>::fast_channel_stats(x.clone().into_dispatch());
    let stats = Tensor::<2>::from_dispatch(stats); // [2, C]: mean, biased variance
    let (gamma, beta) = (bn.gamma.val(), bn.beta.val());
    let y = <Dispatch as FastOps>::fast_batch_norm_train(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        stats.clone().into_dispatch(),
        bn.epsilon,
    );
    let [_, c] = stats.dims();
    let device = stats.device();
    let running = |state: &burn::module::RunningState<Tensor<1>>, row: usize| {
        let batch = stats.clone().slice(s![row..row + 1, ..]).reshape([c]);
        let old = state.value_sync().to_device(&device);
        state.update(old.mul_scalar(1.0 - bn.momentum).add(batch.mul_scalar(bn.momentum)).detach());
    };
    running(&bn.running_mean, 0);
    running(&bn.running_var, 1);
    Tensor::from_dispatch(y)
}

/// A whole LSTM layer from zero state: `x` `[B, T, D]`, `weight` `[D + H, 4H]` (see
/// [`lstm::Layer`]), `bias` `[4H]` -> the hidden states `[B, T, H]`.
pub fn lstm_layer(x: Tensor<3>, weight: Tensor<2>, bias: Tensor<1>) -> Tensor<3> {
    let y = <Dispatch as FastOps>::fast_lstm_layer(x.into_dispatch(), weight.into_dispatch(), bias.into_dispatch());
    Tensor::from_dispatch(y)
}

#[cfg(test)]
thread_local! {
    /// Tests set it to run a whole network on burn's own ops, the reference for ours.
    pub(crate) static REFERENCE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn reference() -> bool {
    #[cfg(test)]
    return REFERENCE.get();
    #[cfg(not(test))]
    false
}

/// Our stride-1 convolution, on whatever backend `x` lives (a missing bias is a constant zero).
fn fast_conv(x: Tensor<4>, weight: Tensor<4>, bias: Option<Tensor<1>>, pad: [usize; 4]) -> Tensor<4> {
    let bias = bias.unwrap_or_else(|| Tensor::zeros([weight.dims()[0]], &weight.device()));
    let y = <Dispatch as FastOps>::fast_conv2d(x.into_dispatch(), weight.into_dispatch(), bias.into_dispatch(), pad);
    Tensor::from_dispatch(y)
}

/// burn's 'same' padding at stride 1 (`PaddingConfig2d::Same`): `kernel - 1` in all (none for an
/// empty axis), the odd one at the end.
fn same_padding(kernel: usize, size: usize) -> [usize; 2] {
    let total = if size > 0 { kernel.saturating_sub(1) } else { 0 };
    [total / 2, total - total / 2]
}

/// `pool.forward(x)`, on our kernel when the windows tile the plane (stride = kernel, no padding,
/// no dilation, floor).
pub fn max_pool2d(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let tiles = pool.stride == pool.kernel_size
        && pool.kernel_size.iter().all(|&k| k > 0)
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && matches!(pool.padding, PaddingConfig2d::Valid | PaddingConfig2d::Explicit(0, 0, 0, 0))
        && x.dtype() == DType::F32;
    if !tiles || reference() {
        return pool.forward(x);
    }
    Tensor::from_dispatch(<Dispatch as FastOps>::fast_max_pool2d(x.into_dispatch(), pool.kernel_size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::conv::{Conv1dConfig, Conv2dConfig};
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::{Distribution, Gradients};

    fn close<const D: usize>(what: &str, a: Tensor<D>, b: Tensor<D>, tol: f32) {
        assert_eq!(a.dims(), b.dims(), "{what}: shapes");
        let (a, b) = (a.into_data().try_to_vec::<f32>().unwrap(), b.into_data().try_to_vec::<f32>().unwrap());
        let scale = b.iter().fold(1f32, |m, v| m.max(v.abs()));
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst <= tol * scale, "{what}: largest difference {worst} > {tol} x {scale}");
    }

    fn convs(d: &Device) -> Vec<Conv2d> {
        vec![
            Conv2dConfig::new([3, 5], [3, 3]).with_padding(PaddingConfig2d::Same).init(d),
            Conv2dConfig::new([1, 4], [3, 3]).with_padding(PaddingConfig2d::Same).with_bias(false).init(d),
            Conv2dConfig::new([2, 3], [4, 2]).with_padding(PaddingConfig2d::Same).init(d), // asymmetric
            Conv2dConfig::new([2, 3], [1, 1]).init(d),
            Conv2dConfig::new([2, 3], [3, 2]).with_padding(PaddingConfig2d::Explicit(2, 0, 1, 1)).init(d),
            Conv2dConfig::new([2, 3], [3, 3]).with_stride([2, 1]).init(d), // burn's path
        ]
    }

    /// The same loss through our op and burn's: equal outputs, and equal gradients for the
    /// input and every parameter.
    #[test]
    fn conv2d_equals_burns_forward_and_gradients() {
        let _stream = crate::device::random_stream();
        let d = crate::device::training();
        d.seed(3);
        for conv in convs(&d) {
            let what = format!("{:?} {:?} {:?}", conv.weight.dims(), conv.padding, conv.stride);
            let cin = conv.weight.dims()[1];
            let x = Tensor::<4>::random([2, cin, 9, 7], Distribution::Normal(0.0, 1.0), &d).require_grad();
            let ours = conv2d(&conv, x.clone());
            let theirs = conv.forward(x.clone());
            close(&format!("{what} forward"), ours.clone(), theirs.clone(), 1e-5);
            let r = Tensor::<4>::random(theirs.dims(), Distribution::Normal(0.0, 1.0), &d);
            let (g1, g2) = ((ours * r.clone()).sum().backward(), (theirs * r).sum().backward());
            close(&format!("{what} dx"), x.grad(&g1).unwrap(), x.grad(&g2).unwrap(), 1e-5);
            let w = |g: &Gradients| conv.weight.grad(g).unwrap();
            close(&format!("{what} dweight"), w(&g1), w(&g2), 1e-5);
            if let Some(b) = &conv.bias {
                close(&format!("{what} dbias"), b.grad(&g1).unwrap(), b.grad(&g2).unwrap(), 1e-5);
            }
        }
    }

    #[test]
    fn conv2d_equals_burns_on_the_inference_device() {
        let _stream = crate::device::random_stream();
        let d = crate::device::base();
        d.seed(4);
        for conv in convs(&d) {
            let cin = conv.weight.dims()[1];
            let x = Tensor::<4>::random([3, cin, 6, 11], Distribution::Normal(0.0, 1.0), &d);
            close("inference", conv2d(&conv, x.clone()), conv.forward(x), 1e-5);
        }
    }

    #[test]
    fn conv1d_equals_burns_forward_and_gradients() {
        let _stream = crate::device::random_stream();
        let d = crate::device::training();
        d.seed(6);
        let convs = [
            Conv1dConfig::new(5, 4, 7).with_padding(PaddingConfig1d::Explicit(3, 3)).init(&d),
            Conv1dConfig::new(3, 2, 4).with_padding(PaddingConfig1d::Same).with_bias(false).init(&d),
            Conv1dConfig::new(3, 2, 3).with_stride(2).init(&d), // burn's path
        ];
        for conv in convs {
            let cin = conv.weight.dims()[1];
            let x = Tensor::<3>::random([2, cin, 13], Distribution::Normal(0.0, 1.0), &d).require_grad();
            let (ours, theirs) = (conv1d(&conv, x.clone()), conv.forward(x.clone()));
            close("conv1d forward", ours.clone(), theirs.clone(), 1e-5);
            let r = Tensor::<3>::random(theirs.dims(), Distribution::Normal(0.0, 1.0), &d);
            let (g1, g2) = ((ours * r.clone()).sum().backward(), (theirs * r).sum().backward());
            close("conv1d dx", x.grad(&g1).unwrap(), x.grad(&g2).unwrap(), 1e-5);
            close("conv1d dweight", conv.weight.grad(&g1).unwrap(), conv.weight.grad(&g2).unwrap(), 1e-5);
        }
    }

    /// Training batch norm through ours and through burn's layer (two identical layers): outputs,
    /// every gradient and the running statistics after the step.
    #[test]
    fn batch_norm_equals_burns_in_training() {
        let _stream = crate::device::random_stream();
        let d = crate::device::training();
        d.seed(8);
        for shape in [[4, 3, 5, 6], [5, 7, 1, 1]] {
            // Two layers, not a clone: a clone shares its running statistics.
            let layer = || burn::nn::BatchNormConfig::new(shape[1]).with_epsilon(1e-3).with_momentum(0.1).init(&d);
            let (ours_bn, theirs_bn) = (layer(), layer());
            let x = Tensor::<4>::random(shape, Distribution::Normal(0.5, 2.0), &d).require_grad();
            let (ours, theirs) = (batch_norm(&ours_bn, x.clone()), theirs_bn.forward(x.clone()));
            close("bn forward", ours.clone(), theirs.clone(), 1e-5);
            let r = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &d);
            let (g1, g2) = ((ours * r.clone()).sum().backward(), (theirs * r).sum().backward());
            close("bn dx", x.grad(&g1).unwrap(), x.grad(&g2).unwrap(), 1e-4);
            close("bn dgamma", ours_bn.gamma.grad(&g1).unwrap(), theirs_bn.gamma.grad(&g2).unwrap(), 1e-5);
            close("bn dbeta", ours_bn.beta.grad(&g1).unwrap(), theirs_bn.beta.grad(&g2).unwrap(), 1e-5);
            let moved = ours_bn.running_mean.value_sync().abs().max().into_scalar::<f32>();
            assert!(moved > 1e-3, "the step updated the running mean ({moved})");
            close("running mean", ours_bn.running_mean.value_sync(), theirs_bn.running_mean.value_sync(), 1e-6);
            close("running var", ours_bn.running_var.value_sync(), theirs_bn.running_var.value_sync(), 1e-5);
        }
    }

    #[test]
    fn max_pool2d_equals_burns_forward_and_gradients() {
        let _stream = crate::device::random_stream();
        let d = crate::device::training();
        d.seed(5);
        let pools = [
            MaxPool2dConfig::new([2, 2]).init(),
            MaxPool2dConfig::new([4, 1]).init(),
            MaxPool2dConfig::new([3, 3]).with_strides([1, 1]).init(), // overlapping: burn's path
        ];
        for pool in pools {
            let x = Tensor::<4>::random([2, 3, 9, 7], Distribution::Normal(0.0, 1.0), &d).require_grad();
            let (ours, theirs) = (max_pool2d(&pool, x.clone()), pool.forward(x.clone()));
            close("pool forward", ours.clone(), theirs.clone(), 0.0);
            let r = Tensor::<4>::random(theirs.dims(), Distribution::Normal(0.0, 1.0), &d);
            let (g1, g2) = ((ours * r.clone()).sum().backward(), (theirs * r).sum().backward());
            close("pool dx", x.grad(&g1).unwrap(), x.grad(&g2).unwrap(), 0.0);
        }
        let base = crate::device::base();
        let x = Tensor::<4>::random([1, 2, 5, 8], Distribution::Normal(0.0, 1.0), &base);
        let pool = MaxPool2dConfig::new([2, 2]).init();
        close("pool inference", max_pool2d(&pool, x.clone()), pool.forward(x), 0.0);
    }
}
