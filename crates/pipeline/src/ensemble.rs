//! Several classifiers of the same classes answering together: the file's probabilities are a
//! weighted mean of theirs; the per-window timeline is the first member's.
//!
//! A folder holding `ensemble.json` is an ensemble:
//! `{"members": [{"model": "../musicnn-head", "weight": 0.7}, {"model": "../gtzan57", "weight": 0.3}]}`
//! (member folders relative to the ensemble's folder), with an optional `"temperature"` that
//! calibrates the mixture of the members' (each calibrated by its own card). The built-in
//! default is one, over the built-in models.

use std::path::Path;

use serde::Deserialize;

use genre_model::calibration::apply_temperature;

use crate::classify::{Builtin, Classifier, FilePrediction};
use crate::{PipelineError, Result};

#[derive(Debug, Deserialize)]
struct Spec {
    members: Vec<Member>,
    #[serde(default = "unit")]
    temperature: f32,
}

fn unit() -> f32 {
    1.0
}

#[derive(Debug, Deserialize)]
struct Member {
    model: String,
    weight: f32,
    /// At most this many windows of a file for this member (1 = the middle one), whatever the
    /// caller allows: the GTZAN-57 MLP learned from one 30 s excerpt a song, and its features of
    /// every 30 s of a long file cost more than they tell.
    #[serde(default)]
    max_windows: Option<usize>,
}

pub struct Predictor {
    /// (classifier, weight), weights summing to 1; the first gives the timeline.
    pub members: Vec<(Classifier, f32)>,
    /// Calibration of the mixed probabilities (1 for a lone model: its card calibrates it).
    pub temperature: f32,
    /// Each member's own cap on windows per file (`None`: the caller's).
    pub member_windows: Vec<Option<usize>>,
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
            Some(p) => Ok(Self::single(Classifier::load(Some(p))?)),
        }
    }

    pub fn single(c: Classifier) -> Self {
        Self { temperature: 1.0, members: vec![(c, 1.0)], member_windows: vec![None] }
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
        if spec.members.iter().any(|m| m.max_windows == Some(0)) {
            return Err(bad("a member's max_windows must be at least 1".into()));
        }
        if !(spec.temperature.is_finite() && (0.01..=100.0).contains(&spec.temperature)) {
            return Err(bad(format!("temperature {} (must be between 0.01 and 100)", spec.temperature)));
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
        let member_windows = spec.members.iter().map(|m| m.max_windows).collect();
        Ok(Self { members, temperature: spec.temperature, member_windows })
    }

    /// Windows member `i` classifies of a file when the caller allows `max_windows`.
    fn windows_of(&self, i: usize, max_windows: Option<usize>) -> Option<usize> {
        match (self.member_windows.get(i).copied().flatten(), max_windows) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
        for (i, (c, w)) in self.members.iter().enumerate().skip(1) {
            let p = c.predict_file(path, self.windows_of(i, max_windows))?;
            others.iter_mut().zip(&p.probs).for_each(|(o, q)| *o += w * q);
        }
        let mix = (self.members.len() > 1).then_some((others.as_slice(), *w0));
        let mut e = crate::explain_file(first, path, class, max_windows, mix)?;
        if self.members.len() > 1 {
            let rest: Vec<(String, f32)> =
                self.members[1..].iter().map(|(c, w)| (crate::explain::member_name(c), *w)).collect();
            e.note = Some(crate::explain::ensemble_note(&crate::explain::member_name(first), *w0, &rest));
        }
        // The class explained is the mixture's argmax either way: a temperature keeps the order.
        apply_temperature(&mut e.probs, self.temperature);
        e.window_probs.iter_mut().for_each(|p| apply_temperature(p, self.temperature));
        Ok(e)
    }

    /// Every member on the file; probabilities mixed by weight, windows from the first member;
    /// then calibrated.
    pub fn predict_file(&self, path: &Path, max_windows: Option<usize>) -> Result<FilePrediction> {
        // Members side by side: each decodes the file at its own rate, so on two cores the
        // GTZAN-57 member's decode and features overlap musicnn's (they ran one after the other).
        let one = |i: usize| self.members[i].0.predict_file(path, self.windows_of(i, max_windows));
        let answers: Vec<Result<FilePrediction>> = if crate::may_block_on_threads() {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..self.members.len()).map(|i| s.spawn(move || one(i))).collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
            })
        } else {
            (0..self.members.len()).map(one).collect()
        };
        let mut answers = answers.into_iter();
        let mut out = answers.next().expect("an ensemble has members")?;
        out.probs.iter_mut().for_each(|p| *p *= self.members[0].1);
        for ((_, w), other) in self.members[1..].iter().zip(answers) {
            out.probs.iter_mut().zip(&other?.probs).for_each(|(p, q)| *p += w * q);
        }
        out.calibrate(self.temperature);
        Ok(out)
    }
}
