//! The LSTM over burn's own parameters, with one matrix product per time step.
//!
//! Why not `burn::nn::Lstm::forward`: every step it runs eight small products (the input's and
//! the hidden state's, for each of the four gates), eight bias additions, and writes the step's
//! output into the whole `[B, T, H]` sequence tensor, which under autodiff copies it each step.
//! Here the four gates' weights sit side by side, and the whole layer runs as one operator
//! ([`crate::ops::lstm_layer`]: one product of the input and one of the hidden state a step,
//! the cell in one pass, backpropagation through time by hand). The
//! parameters are burn's `Lstm`'s own, so saved models load unchanged; tests hold outputs and
//! gradients equal to burn's.

use burn::nn::activation::Activation;
use burn::nn::Lstm;
use burn::prelude::*;

/// The weights of one layer, gates side by side in the order input, forget, output, cell:
/// `[d_input + d_hidden, 4 * d_hidden]` and the summed biases `[1, 4 * d_hidden]`.
struct Fused {
    weight: Tensor<2>,
    bias: Option<Tensor<2>>,
    hidden: usize,
}

/// `None` when the layer is configured unlike the LSTM this fuses (a coupled forget gate,
/// clipping, reversed, or other activations): burn's own forward runs those.
fn fuse(l: &Lstm) -> Option<Fused> {
    let plain = matches!(l.gate_activation, Activation::Sigmoid(_))
        && matches!(l.cell_activation, Activation::Tanh(_))
        && matches!(l.hidden_activation, Activation::Tanh(_))
        && !l.input_forget
        && !l.reverse
        && l.clip.is_none();
    let forget = l.forget_gate.as_ref().filter(|_| plain)?;
    let gates = [&l.input_gate, forget, &l.output_gate, &l.cell_gate];
    let input = Tensor::cat(gates.iter().map(|g| g.input_transform.weight.val()).collect(), 1);
    let hidden = Tensor::cat(gates.iter().map(|g| g.hidden_transform.weight.val()).collect(), 1);
    let bias_of = |g: &&burn::nn::GateController| {
        let b = |lin: &burn::nn::Linear| lin.bias.as_ref().map(|b| b.val());
        match (b(&g.input_transform), b(&g.hidden_transform)) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        }
    };
    let biases: Option<Vec<Tensor<1>>> = gates.iter().map(bias_of).collect();
    Some(Fused {
        weight: Tensor::cat(vec![input, hidden], 0),
        bias: biases.map(|b| Tensor::cat(b, 0).unsqueeze_dim(0)),
        hidden: l.d_hidden,
    })
}

/// Run layer `l` over the sequence `x` `[B, T, D]` from zero state: the hidden states `[B, T, H]`.
pub fn lstm_sequence(l: &Lstm, x: Tensor<3>) -> Tensor<3> {
    let Some(f) = fuse(l) else { return l.forward(x, None).0 };
    let bias = match f.bias {
        Some(b) => b.reshape([4 * f.hidden]),
        None => Tensor::zeros([4 * f.hidden], &x.device()),
    };
    crate::ops::lstm_layer(x, f.weight, bias)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LstmConfig;
    use burn::tensor::Distribution;

    fn close(a: Tensor<2>, b: Tensor<2>, tol: f32) {
        let (a, b) = (a.into_data().try_to_vec::<f32>().unwrap(), b.into_data().try_to_vec::<f32>().unwrap());
        assert_eq!(a.len(), b.len());
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst <= tol, "largest difference {worst} > {tol}");
    }

    #[test]
    fn fused_lstm_equals_burns_forward_and_gradients() {
        let _stream = crate::device::random_stream();
        let d = crate::device::training();
        d.seed(7);
        let l = LstmConfig::new(5, 8, true).init(&d);
        let x = Tensor::<3>::random([3, 11, 5], Distribution::Normal(0.0, 1.0), &d).require_grad();
        let ours = lstm_sequence(&l, x.clone());
        let (theirs, state) = l.forward(x.clone(), None);
        close(ours.clone().reshape([3, 88]), theirs.clone().reshape([3, 88]), 1e-6);
        close(ours.clone().slice(s![.., 10..11, ..]).squeeze_dim(1), state.hidden.clone(), 1e-6);
        // Gradients of the same loss (every step's output counts) through both.
        let g1 = (ours.clone() * ours).sum().backward();
        let g2 = (theirs.clone() * theirs).sum().backward();
        close(x.grad(&g1).unwrap().reshape([3, 55]), x.grad(&g2).unwrap().reshape([3, 55]), 1e-5);
        let w = |g: &burn::tensor::Gradients| l.forget_gate.as_ref().unwrap().hidden_transform.weight.grad(g).unwrap();
        close(w(&g1), w(&g2), 1e-5);
        let wi = |g: &burn::tensor::Gradients| l.input_gate.input_transform.weight.grad(g).unwrap();
        close(wi(&g1), wi(&g2), 1e-5);
        let b = |g: &burn::tensor::Gradients| l.cell_gate.input_transform.bias.as_ref().unwrap().grad(g).unwrap();
        close(b(&g1).unsqueeze_dim(0), b(&g2).unsqueeze_dim(0), 1e-5);
    }

    #[test]
    fn fused_lstm_equals_burns_on_the_inference_device() {
        let _stream = crate::device::random_stream();
        let d = crate::device::base();
        d.seed(9);
        let l = LstmConfig::new(5, 8, true).init(&d);
        let x = Tensor::<3>::random([4, 9, 5], Distribution::Normal(0.0, 1.0), &d);
        let (theirs, _) = l.forward(x.clone(), None);
        close(lstm_sequence(&l, x).reshape([4, 72]), theirs.reshape([4, 72]), 1e-6);
    }

    #[test]
    fn other_configurations_run_burns_own_forward() {
        let _stream = crate::device::random_stream();
        let d = crate::device::base();
        let l = LstmConfig::new(4, 6, true).with_input_forget(true).init(&d);
        assert!(fuse(&l).is_none());
        let x = Tensor::<3>::random([2, 7, 4], Distribution::Normal(0.0, 1.0), &d);
        let ours = lstm_sequence(&l, x.clone());
        let (theirs, _) = l.forward(x, None);
        close(ours.reshape([2, 42]), theirs.reshape([2, 42]), 0.0);
    }
}
