//! Grad-CAM's gradients against finite differences, through real model heads (eval mode).

use burn::module::Module;
use burn::prelude::*;
use genre_model::arch::{ArchConfig, Family};
use genre_model::gradcam::{feature_gradient, grad_cam};
use genre_model::{device, Net};

fn vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn cam_gradients_match_finite_differences() {
    let d = device::base();
    for (family, seed) in [Family::Cnn, Family::Resnet, Family::Crnn].into_iter().flat_map(|f| [(f, 1), (f, 2), (f, 3)])
    {
        d.seed(seed);
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
        let eps = 2e-3f32;
        let (mut worst, mut checked, mut kinks) = (0f64, 0, 0);
        // A spread of cells, both items of the batch. ReLUs in the heads make the score only
        // piecewise smooth: where the one-sided differences disagree, a kink lies within eps and
        // no finite difference is a valid reference there; those cells are counted, not judged.
        let base = score(&fv);
        for k in (0..fv.len()).step_by(fv.len() / 41 + 1) {
            let (mut up, mut down) = (fv.clone(), fv.clone());
            up[k] += eps;
            down[k] -= eps;
            let (su, sd) = (score(&up), score(&down));
            let (fwd, bwd) = ((su - base) / eps as f64, (base - sd) / eps as f64);
            if (fwd - bwd).abs() > 0.05 * fwd.abs().max(bwd.abs()).max(1e-2) {
                kinks += 1;
                continue;
            }
            let numeric = (su - sd) / (2.0 * eps as f64);
            let err = (numeric - gv[k] as f64).abs() / (numeric.abs().max(gv[k].abs() as f64).max(1e-2));
            worst = worst.max(err);
            checked += 1;
        }
        println!("{family:?}: worst relative gradient error {worst:.2e} over {checked} cells ({kinks} at a kink)");
        assert!(checked >= 30, "{family:?}: too few smooth cells ({checked})");
        assert!(worst < 2e-2, "{family:?}: autodiff and finite differences disagree ({worst})");
        let cam = grad_cam(feats, &head, class);
        assert_eq!(cam.dims(), [2, dims[2], dims[3]]);
        assert!(vec(cam).iter().all(|v| v.is_finite() && *v >= 0.0));
    }
}
