//! musicnn as a feature extractor: log-mel windows in, one layer's activations out.

use burn::prelude::*;
use genre_data::{Embedder, Embedding, FeatureKind, FeatureSpec};
use genre_model::device;
use genre_model::musicnn::{Layer, Musicnn, Variant, FRAMES, FRONTEND_DIM, N_MELS};

use crate::{PipelineError, Result};

/// Windows per forward pass: large enough to amortise per-call costs, small enough to bound the
/// activations' memory (~20 MB of front-end maps per window).
pub const BATCH: usize = 16;

/// What a musicnn embedding is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The front-end's `[561, frames]` maps (input of a fine-tuned mid-end and back-end).
    Frontend,
    Layer(Layer),
}

impl std::str::FromStr for Output {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.eq_ignore_ascii_case("frontend") {
            Ok(Output::Frontend)
        } else {
            s.parse().map(Output::Layer).map_err(|e| format!("{e}; or frontend"))
        }
    }
}

impl Output {
    fn name(self) -> String {
        match self {
            Output::Frontend => "frontend".into(),
            Output::Layer(l) => {
                serde_json::to_value(l).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
            }
        }
    }
    fn shape(self) -> [usize; 2] {
        match self {
            Output::Frontend => [FRONTEND_DIM, FRAMES],
            Output::Layer(l) => [l.dim(), 1],
        }
    }
}

/// The feature spec of musicnn embeddings: 3 s windows `hop_secs` apart, through `variant`'s `output`.
pub fn musicnn_spec(variant: Variant, output: Output, hop_secs: f64) -> FeatureSpec {
    FeatureSpec::musicnn(hop_secs).with_embedding(Embedding {
        network: format!("musicnn-{variant}"),
        layer: output.name(),
        shape: output.shape(),
    })
}

pub struct MusicnnEmbedder {
    net: Musicnn,
    variant: Variant,
    output: Output,
}

impl MusicnnEmbedder {
    pub fn new(variant: Variant, output: Output) -> Result<Self> {
        Ok(Self { net: Musicnn::pretrained(variant, &device::base())?, variant, output })
    }

    /// Whether [`MusicnnEmbedder::embed_windows_tagged`] gives tags too: the network's own tags
    /// come for one small product when the embedding is its penultimate layer.
    pub fn tags(&self) -> Option<Variant> {
        (self.output == Output::Layer(Layer::Penultimate)).then_some(self.variant)
    }

    /// The embedder a spec asks for (`None` when it has no embedding); anything but a musicnn
    /// network on musicnn input is refused.
    pub fn for_spec(spec: &FeatureSpec) -> Result<Option<Self>> {
        let Some(e) = &spec.embedding else { return Ok(None) };
        let bad = |why: &str| PipelineError::Invalid(format!("embedding {}/{}: {why}", e.network, e.layer));
        let variant: Variant = e
            .network
            .strip_prefix("musicnn-")
            .ok_or_else(|| bad("unknown network"))?
            .parse()
            .map_err(|m: String| bad(&m))?;
        let output: Output = e.layer.parse().map_err(|m: String| bad(&m))?;
        if spec.kind != FeatureKind::Musicnn || spec.input_shape() != [N_MELS, FRAMES] || output.shape() != e.shape {
            return Err(bad("does not fit musicnn's input or output shapes"));
        }
        Self::new(variant, output).map(Some)
    }

    pub fn net(&self) -> &Musicnn {
        &self.net
    }

    /// `n` log-mel windows `[n, 96, 187]` -> `[n, output shape]`, in batches of [`BATCH`].
    pub fn embed_windows(&self, x: &[f32], n: usize) -> Vec<f32> {
        self.embed_windows_tagged(x, n).0
    }

    /// [`MusicnnEmbedder::embed_windows`], and the windows' taggrams `[n, 50]` when
    /// [`MusicnnEmbedder::tags`] says they come along (empty otherwise).
    pub fn embed_windows_tagged(&self, x: &[f32], n: usize) -> (Vec<f32>, Vec<f32>) {
        let d = device::base();
        let per = N_MELS * FRAMES;
        let mut out = Vec::with_capacity(n * self.output.shape()[0] * self.output.shape()[1]);
        let mut tags = Vec::new();
        for (k, chunk) in x.chunks(BATCH * per).enumerate() {
            let b = chunk.len() / per;
            debug_assert!(k * BATCH + b <= n);
            let t = Tensor::<3>::from_data(TensorData::new(chunk.to_vec(), [b, N_MELS, FRAMES]), &d);
            let y = match self.output {
                Output::Frontend => self.net.frontend.forward(t).into_data(),
                Output::Layer(l) => {
                    let y = self.net.embed(t, l);
                    if self.tags().is_some() {
                        let g = self.net.taggram_of(y.clone()).into_data();
                        tags.extend(g.try_to_vec::<f32>().expect("f32 tensor"));
                    }
                    y.into_data()
                }
            };
            out.extend(y.try_to_vec::<f32>().expect("f32 tensor"));
        }
        (out, tags)
    }
}

impl Embedder for MusicnnEmbedder {
    fn embed(&self, x: Vec<f32>, n: usize) -> std::result::Result<Vec<f32>, String> {
        if x.len() != n * N_MELS * FRAMES {
            return Err(format!("musicnn takes [{N_MELS}, {FRAMES}] windows, got {} values for {n}", x.len()));
        }
        Ok(self.embed_windows(&x, n))
    }
}
