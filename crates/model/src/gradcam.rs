//! Grad-CAM (Selvaraju et al. 2017): which cells of a feature map raised a class's score. The
//! class score's gradient with respect to the map, averaged over the map's cells, weighs each
//! channel; the weighted sum of channels, ReLU'd, is the map of evidence.
//!
//! Gradient x input (Shrikumar et al. 2016): each input cell's first-order share of the class
//! score, taken for networks whose last map has lost an axis worth showing (musicnn pools
//! frequency away in its front end, so only its input still has one).

use burn::prelude::*;
use burn::tensor::activation::relu;

/// Grad-CAM of `class` over `features` `[B, C, H, W]` (computed without autodiff, e.g. by an
/// eval-mode network on the plain device) through `head` (features -> logits `[B, classes]`).
/// Returns `[B, H, W]`, not normalised (0 where nothing raised the score).
pub fn grad_cam(features: Tensor<4>, head: &dyn Fn(Tensor<4>) -> Tensor<2>, class: usize) -> Tensor<3> {
    let [b, _, h, w] = features.dims();
    let (f, g) = feature_gradient(features, head, class);
    let alpha = g.mean_dim(3).mean_dim(2); // [B, C, 1, 1]
    relu((f * alpha).sum_dim(1)).reshape([b, h, w])
}

/// The features and d(class logit summed over the batch)/d(features): items of a batch do not
/// interact in an eval-mode head, so each item's gradient is its own.
pub fn feature_gradient(
    features: Tensor<4>,
    head: &dyn Fn(Tensor<4>) -> Tensor<2>,
    class: usize,
) -> (Tensor<4>, Tensor<4>) {
    gradient(features, head, class)
}

/// Gradient x input of `class` for a batch of inputs `[B, H, W]` through `net` (input ->
/// logits `[B, classes]`, differentiable all the way; eval mode). Signed, not normalised: a
/// cell's value is its first-order share of the class logit relative to an all-zero input (for
/// musicnn's log-mel, `log10(1 + 10000 x)` = 0 is silence), so a region's sum says how much
/// that region raised (> 0) or lowered (< 0) the score.
pub fn gradient_x_input(x: Tensor<3>, net: &dyn Fn(Tensor<3>) -> Tensor<2>, class: usize) -> Tensor<3> {
    let (x, g) = gradient(x, net, class);
    x * g
}

/// `x` and d(class logit summed over the batch)/dx, on the plain device.
pub fn gradient<const D: usize>(
    x: Tensor<D>,
    f: &dyn Fn(Tensor<D>) -> Tensor<2>,
    class: usize,
) -> (Tensor<D>, Tensor<D>) {
    let x = x.autodiff().require_grad();
    let logits = f(x.clone());
    let score = logits.slice(s![.., class..class + 1]).sum();
    let grads = score.backward();
    let g = x.grad(&grads).expect("the output depends on the input");
    (x.inner(), g)
}
