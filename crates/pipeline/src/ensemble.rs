//! Several classifiers of the same classes answering together: the file's probabilities are a
//! weighted mean of theirs; the per-window timeline is the first member's.
//!
//! A folder holding `ensemble.json` is an ensemble:
//! `{"members": [{"model": "../musicnn-head", "weight": 0.7}, {"model": "../gtzan57", "weight": 0.3}]}`
//! (member folders relative to the ensemble's folder). The built-in default is one, over the
//! built-in models.

use std::path::Path;

use serde::Deserialize;

use crate::classify::{Builtin, Classifier, FilePrediction};
use crate::{PipelineError, Result};

#[derive(Debug, Deserialize)]
struct Spec {
    members: Vec<Member>,
}

#[derive(Debug, Deserialize)]
struct Member {
    model: String,
    weight: f32,
}

pub struct Predictor {
    /// (classifier, weight), weights summing to 1; the first gives the timeline.
    pub members: Vec<(Classifier, f32)>,
}

impl Predictor {
    /// A run folder, a model.json, or a folder with ensemble.json; `None` = the built-in default.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        match path {
            None => {
                let spec = Builtin::default_ensemble().ok_or_else(|| {
                    PipelineError::Invalid("this build has no built-in default model: pass --model RUN_DIR".into())
                })?;
                Self::from_spec(spec, "<built-in default>", |m| {
                    let name = Path::new(m).file_name().and_then(|n| n.to_str()).unwrap_or(m);
                    Classifier::builtin(Builtin::from_name(name).ok_or_else(|| {
                        PipelineError::Invalid(format!("built-in ensemble names an unknown model '{m}'"))
                    })?)
                })
            }
            Some(p) if p.join("ensemble.json").is_file() => {
                let file = p.join("ensemble.json");
                let text = genre_fsio::read_text(&file, genre_fsio::JSON_CAP)
                    .map_err(|e| PipelineError::Invalid(format!("{}: {e}", file.display())))?;
                Self::from_spec(&text, &file.display().to_string(), |m| Classifier::load(Some(&p.join(m))))
            }
            Some(p) => Ok(Self { members: vec![(Classifier::load(Some(p))?, 1.0)] }),
        }
    }

    pub fn single(c: Classifier) -> Self {
        Self { members: vec![(c, 1.0)] }
    }

    fn from_spec(text: &str, origin: &str, load: impl Fn(&str) -> Result<Classifier>) -> Result<Self> {
        let bad = |why: String| PipelineError::Invalid(format!("{origin}: {why}"));
        let spec: Spec = serde_json::from_str(text).map_err(|e| bad(format!("not an ensemble: {e}")))?;
        if spec.members.is_empty() {
            return Err(bad("no members".into()));
        }
        if spec.members.iter().any(|m| !(m.weight.is_finite() && m.weight > 0.0)) {
            return Err(bad("every weight must be a positive number".into()));
        }
        let total: f32 = spec.members.iter().map(|m| m.weight).sum();
        let mut members = Vec::new();
        for m in &spec.members {
            let c = load(&m.model).map_err(|e| bad(format!("member {}: {e}", m.model)))?;
            members.push((c, m.weight / total));
        }
        let first = &members[0].0.card;
        if let Some((c, _)) =
            members.iter().find(|(c, _)| c.card.classes != first.classes || c.card.multi_label != first.multi_label)
        {
            return Err(bad(format!("members disagree on the classes: {:?} vs {:?}", first.classes, c.card.classes)));
        }
        Ok(Self { members })
    }

    /// The first member's card: classes, thresholds, scores.
    pub fn card(&self) -> &genre_model::ModelCard {
        &self.members[0].0.card
    }

    /// Grad-CAM of the first member (the others have no map to look at), explaining the
    /// ensemble's answer unless a class is given.
    pub fn explain_file(
        &self,
        path: &Path,
        class: Option<usize>,
        max_windows: Option<usize>,
    ) -> Result<crate::Explanation> {
        let (first, w0) = &self.members[0];
        let mut others = vec![0f32; first.card.classes.len()];
        for (c, w) in &self.members[1..] {
            let p = c.predict_file(path, max_windows)?;
            others.iter_mut().zip(&p.probs).for_each(|(o, q)| *o += w * q);
        }
        let mix = (self.members.len() > 1).then_some((others.as_slice(), *w0));
        crate::explain_file(first, path, class, max_windows, mix)
    }

    /// Every member on the file; probabilities mixed by weight, windows from the first member.
    pub fn predict_file(&self, path: &Path, max_windows: Option<usize>) -> Result<FilePrediction> {
        let (first, w0) = &self.members[0];
        let mut out = first.predict_file(path, max_windows)?;
        if self.members.len() > 1 {
            out.probs.iter_mut().for_each(|p| *p *= w0);
            for (c, w) in &self.members[1..] {
                let other = c.predict_file(path, max_windows)?;
                out.probs.iter_mut().zip(&other.probs).for_each(|(p, q)| *p += w * q);
            }
        }
        Ok(out)
    }
}
