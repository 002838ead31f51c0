//! musicnn in Rust against the TensorFlow original (`../shared/reference/musicnn`, made by
//! `shared/bench/musicnn/make_reference.py`): from the reference log-mel input, every named
//! activation of both models within 1e-4 of each tensor's largest magnitude.

use burn::prelude::*;
use genre_model::device;
use genre_model::musicnn::{Layer, Musicnn, Variant, FRAMES, N_MELS};
use genre_report::npy::read_npy;
use genre_testkit::reference_dir;

const STEMS: [&str; 3] = ["clip30_22050_mono", "jazz.00000", "metal.00000"];
const TOLERANCE: f32 = 1e-4;

fn load(name: &str) -> (Vec<usize>, Vec<f32>) {
    read_npy(&reference_dir().join("musicnn").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The reference input cut as the original does (187-frame windows, hop 187), each window as
/// our `[mels, frames]` layout.
fn windows(stem: &str) -> (usize, Vec<f32>) {
    let (shape, x) = load(&format!("{stem}.logmel16k.npy"));
    assert_eq!(shape[1], N_MELS);
    let n = shape[0] / FRAMES;
    let mut out = Vec::with_capacity(n * N_MELS * FRAMES);
    for w in 0..n {
        for m in 0..N_MELS {
            out.extend((0..FRAMES).map(|t| x[(w * FRAMES + t) * N_MELS + m]));
        }
    }
    (n, out)
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// `[B, C, T]` (ours) -> `[B, T, C]` (TensorFlow's), first `b` items.
fn time_major(t: Tensor<3>, b: usize) -> Vec<f32> {
    let [_, c, tt] = t.dims();
    to_vec(t.slice(s![0..b, .., ..]).swap_dims(1, 2).reshape([b, tt, c]))
}

/// Largest |ours - reference| relative to the reference's largest magnitude.
fn rel_err(ours: &[f32], reference: &[f32]) -> f32 {
    assert_eq!(ours.len(), reference.len(), "shapes differ");
    let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    ours.iter().zip(reference).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max) / scale
}

#[test]
fn both_models_match_tensorflow_layer_by_layer() {
    let d = device::base();
    for v in [Variant::Msd, Variant::Mtt] {
        let net = Musicnn::pretrained(v, &d).expect("embedded weights load");
        let tf = match v {
            Variant::Msd => "MSD_musicnn",
            Variant::Mtt => "MTT_musicnn",
        };
        for stem in STEMS {
            let (n, x) = windows(stem);
            let a = net.activations(Tensor::from_data(TensorData::new(x, [n, N_MELS, FRAMES]), &d));
            let reference = |t: &str| load(&format!("{stem}.{tf}.{t}.npy"));
            let (fshape, front) = reference("frontend");
            let (mshape, mid) = reference("midend");
            let (_, pooled) = reference("pooled");
            let (_, pen) = reference("penultimate");
            let (_, tags) = reference("taggram");
            let taggram = to_vec(burn::tensor::activation::sigmoid(a.logits));
            let errs = [
                ("frontend", rel_err(&time_major(a.frontend, fshape[0]), &front)),
                ("midend", rel_err(&time_major(a.midend, mshape[0]), &mid)),
                ("pooled", rel_err(&to_vec(a.pooled), &pooled)),
                ("penultimate", rel_err(&to_vec(a.penultimate), &pen)),
                ("taggram", rel_err(&taggram, &tags)),
            ];
            println!("{tf} {stem}: {errs:?}");
            for (name, e) in errs {
                assert!(e <= TOLERANCE, "{tf} {stem} {name}: error {e:e} of the tensor's max > {TOLERANCE:e}");
            }
        }
    }
}

#[test]
fn embed_layers_have_their_sizes_and_agree_with_activations() {
    let d = device::base();
    let net = Musicnn::pretrained(Variant::Msd, &d).unwrap();
    let (_, x) = windows("jazz.00000");
    let x: Tensor<3> = Tensor::from_data(TensorData::new(x[..2 * N_MELS * FRAMES].to_vec(), [2, N_MELS, FRAMES]), &d);
    let a = net.activations(x.clone());
    for layer in [Layer::Penultimate, Layer::Pooled, Layer::Taggram] {
        let e = net.embed(x.clone(), layer);
        assert_eq!(e.dims(), [2, layer.dim()]);
        let want = match layer {
            Layer::Penultimate => a.penultimate.clone(),
            Layer::Pooled => a.pooled.clone(),
            Layer::Taggram => burn::tensor::activation::sigmoid(a.logits.clone()),
        };
        assert!(rel_err(&to_vec(e), &to_vec(want)) < 1e-6, "{layer:?}");
    }
}

#[test]
fn truncated_or_mismatched_weights_are_refused_with_the_reason() {
    let d = device::base();
    let good = Variant::Msd.weights();
    let err = Musicnn::load_bytes(&good[..good.len() / 2], &d, "half.safetensors").unwrap_err().to_string();
    assert!(err.contains("half.safetensors") && err.contains("safetensors"), "{err}");
    // A model file of another structure (one tensor renamed and reshaped).
    let st = safetensors::SafeTensors::deserialize(good).unwrap();
    let mut tensors: Vec<(String, safetensors::tensor::TensorView)> =
        st.tensors().into_iter().filter(|(n, _)| n != "tags.weight").collect();
    let data = vec![0u8; 4 * 10];
    tensors.push((
        "tags.kernel".into(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![10], &data).unwrap(),
    ));
    let bytes = safetensors::serialize(tensors, &None).unwrap();
    let err = Musicnn::load_bytes(&bytes, &d, "other.safetensors").unwrap_err().to_string();
    assert!(err.contains("tags.weight") && err.contains("tags.kernel"), "{err}");
    // NaN weights.
    let mut tensors: Vec<(String, safetensors::tensor::TensorView)> = st.tensors();
    let nan = [f32::NAN.to_le_bytes(); 50].concat();
    tensors.retain(|(n, _)| n != "tags.bias");
    tensors.push((
        "tags.bias".into(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![50], &nan).unwrap(),
    ));
    let err = Musicnn::load_bytes(&safetensors::serialize(tensors, &None).unwrap(), &d, "nan.safetensors")
        .unwrap_err()
        .to_string();
    assert!(err.contains("tags.bias") && err.contains("non-finite"), "{err}");
}

#[test]
fn fast_front_end_equals_burn_layers() {
    let d = device::base();
    let net = Musicnn::pretrained(Variant::Mtt, &d).unwrap();
    let (_, x) = windows("metal.00000");
    let x: Tensor<3> = Tensor::from_data(TensorData::new(x[..3 * N_MELS * FRAMES].to_vec(), [3, N_MELS, FRAMES]), &d);
    let fast = to_vec(net.frontend.forward(x.clone()));
    let layers = to_vec(net.frontend.forward_layers(x));
    let err = rel_err(&fast, &layers);
    println!("fast front end vs burn layers: {err:e} of the max");
    assert!(err < 1e-5, "{err}");
}
