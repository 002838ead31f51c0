//! Grad-CAM (Selvaraju et al. 2017): which cells of a feature map raised a class's score. The
//! class score's gradient with respect to the map, averaged over the map's cells, weighs each
//! channel; the weighted sum of channels, ReLU'd, is the map of evidence.

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
    let f = features.autodiff().require_grad();
    let logits = head(f.clone());
    let score = logits.slice(s![.., class..class + 1]).sum();
    let grads = score.backward();
    let g = f.grad(&grads).expect("the head depends on the features");
    (f.inner(), g)
}
