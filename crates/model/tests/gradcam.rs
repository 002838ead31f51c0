//! Grad-CAM's gradients against finite differences, through real model heads (eval mode).

use burn::prelude::*;
use genre_model::arch::{ArchConfig, Family};
use genre_model::gradcam::{feature_gradient, grad_cam};
use burn::module::Module;
use genre_model::{device, Net};

fn vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn cam_gradients_match_finite_differences() {
    let d = device::base();
    for family in [Family::Cnn, Family::Resnet, Family::Crnn] {
        let net = Net::new(&ArchConfig::new(family, 32, 48, 4), &d).valid(); // eval mode: no dropout
        let x: Vec<f32> = (0..2 * 32 * 48).map(|i| ((i * 7919) % 113) as f32 / 56.0 - 1.0).collect();
        let x = Tensor::<3>::from_data(TensorData::new(x, [2, 32, 48]), &d);
        let feats = net.conv_features(x).unwrap();
        let head = |f: Tensor<4>| net.head(f).unwrap();
        let class = 2;
        let (f, g) = feature_gradient(feats.clone(), &head, class);
        let (fv, gv) = (vec(f.clone()), vec(g));
        let dims = f.dims();
        let score = |v: &[f32]| -> f64 {
            let t = Tensor::<4>::from_data(TensorData::new(v.to_vec(), dims), &d);
            vec(head(t)).chunks(4).map(|r| r[class] as f64).sum()
        };
        let eps = 1e-2f32;
        let mut worst = 0f64;
        // A spread of cells, both items of the batch.
        for k in (0..fv.len()).step_by(fv.len() / 23 + 1) {
            let (mut up, mut down) = (fv.clone(), fv.clone());
            up[k] += eps;
            down[k] -= eps;
            let numeric = (score(&up) - score(&down)) / (2.0 * eps as f64);
            let err = (numeric - gv[k] as f64).abs() / (numeric.abs().max(gv[k].abs() as f64).max(1e-3));
            worst = worst.max(err);
        }
        println!("{family:?}: worst relative gradient error {worst:.2e}");
        assert!(worst < 2e-2, "{family:?}: autodiff and finite differences disagree ({worst})");
        let cam = grad_cam(feats, &head, class);
        assert_eq!(cam.dims(), [2, dims[2], dims[3]]);
        assert!(vec(cam).iter().all(|v| v.is_finite() && *v >= 0.0));
    }
}
