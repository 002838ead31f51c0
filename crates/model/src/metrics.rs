//! Scores: accuracy, top-k, confusion matrix, per-class precision/recall/F1, macro-F1, and for
//! multi-label data per-tag ROC-AUC and PR-AUC. Plain Rust over probability rows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassScore {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Scores {
    pub n: usize,
    pub accuracy: f64,
    pub top_k: Vec<(usize, f64)>,
    pub macro_f1: f64,
    pub per_class: Vec<ClassScore>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

pub fn argmax(p: &[f32]) -> usize {
    p.iter().enumerate().fold(0, |b, (i, &v)| if v > p[b] { i } else { b })
}

/// Indices of the `k` largest values, largest first.
pub fn top_k(p: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    idx.truncate(k);
    idx
}

/// Single-label scores of probability rows against true classes.
pub fn single_label(probs: &[Vec<f32>], truth: &[usize], classes: &[String]) -> Scores {
    let c = classes.len();
    let mut confusion = vec![vec![0usize; c]; c];
    for (p, &t) in probs.iter().zip(truth) {
        confusion[t][argmax(p)] += 1;
    }
    let n = truth.len();
    let correct: usize = (0..c).map(|i| confusion[i][i]).sum();
    let per_class: Vec<ClassScore> = (0..c)
        .map(|i| {
            let tp = confusion[i][i] as f64;
            let predicted: usize = (0..c).map(|t| confusion[t][i]).sum();
            let support: usize = confusion[i].iter().sum();
            let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
            let recall = if support > 0 { tp / support as f64 } else { 0.0 };
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            ClassScore { class: classes[i].clone(), precision, recall, f1, support }
        })
        .collect();
    let present: Vec<&ClassScore> = per_class.iter().filter(|s| s.support > 0).collect();
    let macro_f1 = present.iter().map(|s| s.f1).sum::<f64>() / present.len().max(1) as f64;
    let top_k = [1usize, 3].iter().filter(|&&k| k <= c).map(|&k| (k, top_k_accuracy(probs, truth, k))).collect();
    Scores { n, accuracy: correct as f64 / n.max(1) as f64, top_k, macro_f1, per_class, confusion }
}

pub fn top_k_accuracy(probs: &[Vec<f32>], truth: &[usize], k: usize) -> f64 {
    let hits = probs.iter().zip(truth).filter(|(p, &t)| p.iter().filter(|&&v| v > p[t]).count() < k).count();
    hits as f64 / truth.len().max(1) as f64
}

/// Area under the ROC curve (probability that a random positive outranks a random negative,
/// ties counted half). `None` when a side is empty.
pub fn roc_auc(scores: &[f32], positive: &[bool]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (n_pos, n_neg) = (positive.iter().filter(|&&p| p).count(), positive.iter().filter(|&&p| !p).count());
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    // Mann-Whitney U with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&k| positive[idx[k]]).count() as f64 * avg;
        i = j + 1;
    }
    Some((rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0) / (n_pos * n_neg) as f64)
}

/// Average precision (area under the precision-recall curve, step-wise as scikit-learn).
pub fn pr_auc(scores: &[f32], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|&&p| p).count();
    if n_pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut ap, mut seen) = (0usize, 0.0, 0usize);
    let mut k = 0;
    while k < idx.len() {
        let mut j = k;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[k]] {
            j += 1;
        }
        let new_tp = (k..=j).filter(|&m| positive[idx[m]]).count();
        seen += j - k + 1;
        if new_tp > 0 {
            tp += new_tp;
            ap += (new_tp as f64 / n_pos as f64) * (tp as f64 / seen as f64);
        }
        k = j + 1;
    }
    Some(ap)
}

/// Per-tag ROC-AUC and PR-AUC for multi-label data: `(tag, roc, pr)`.
pub fn multi_label(
    probs: &[Vec<f32>],
    truth: &[Vec<usize>],
    classes: &[String],
) -> Vec<(String, Option<f64>, Option<f64>)> {
    (0..classes.len())
        .map(|c| {
            let s: Vec<f32> = probs.iter().map(|p| p[c]).collect();
            let pos: Vec<bool> = truth.iter().map(|t| t.contains(&c)).collect();
            (classes[c].clone(), roc_auc(&s, &pos), pr_auc(&s, &pos))
        })
        .collect()
}

/// Per-tag decision thresholds for multi-label prediction: for each tag, the threshold in
/// 0.05..0.95 (step 0.05) with the best F1 on the given (validation) tracks; 0.5 when a tag has
/// no positive example there.
pub fn best_thresholds(probs: &[Vec<f32>], truth: &[Vec<usize>], n_tags: usize) -> Vec<f32> {
    (0..n_tags)
        .map(|c| {
            let positives = truth.iter().filter(|t| t.contains(&c)).count();
            if positives == 0 {
                return 0.5;
            }
            let f1 = |th: f32| {
                let (mut tp, mut fp) = (0usize, 0usize);
                for (p, t) in probs.iter().zip(truth) {
                    if p[c] >= th {
                        if t.contains(&c) {
                            tp += 1
                        } else {
                            fp += 1
                        }
                    }
                }
                2.0 * tp as f64 / (2 * tp + fp + (positives - tp)) as f64
            };
            (1..20)
                .map(|k| k as f32 * 0.05)
                .fold((0.5f32, -1.0f64), |best, th| {
                    let v = f1(th);
                    if v > best.1 {
                        (th, v)
                    } else {
                        best
                    }
                })
                .0
        })
        .collect()
}

/// One tag's scores at its decision threshold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TagScore {
    pub tag: String,
    pub threshold: f32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Tracks that carry the tag.
    pub support: usize,
    pub roc_auc: Option<f64>,
    pub pr_auc: Option<f64>,
}

/// Multi-label (tagging) scores: what fits data where a track has any number of tags.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TagScores {
    pub n: usize,
    /// F1 over every (track, tag) decision.
    pub micro_f1: f64,
    /// Mean F1 over tags with at least one positive track.
    pub macro_f1: f64,
    /// Share of tracks whose decided tag set is exactly their true set.
    pub exact_match: f64,
    /// Means over the tags where they are defined.
    pub mean_roc_auc: Option<f64>,
    pub mean_pr_auc: Option<f64>,
    pub per_tag: Vec<TagScore>,
}

/// Tag decisions `p[c] >= thresholds[c]` scored against the true tag sets.
pub fn tag_scores(probs: &[Vec<f32>], truth: &[Vec<usize>], classes: &[String], thresholds: &[f32]) -> TagScores {
    let decide = |p: &[f32], c: usize| p[c] >= thresholds.get(c).copied().unwrap_or(0.5);
    let f1 = |tp: usize, fp: usize, fn_: usize| {
        if tp == 0 {
            0.0
        } else {
            2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
        }
    };
    let (mut all_tp, mut all_fp, mut all_fn) = (0, 0, 0);
    let per_tag: Vec<TagScore> = (0..classes.len())
        .map(|c| {
            let (mut tp, mut fp, mut fn_) = (0, 0, 0);
            for (p, t) in probs.iter().zip(truth) {
                match (decide(p, c), t.contains(&c)) {
                    (true, true) => tp += 1,
                    (true, false) => fp += 1,
                    (false, true) => fn_ += 1,
                    (false, false) => {}
                }
            }
            (all_tp, all_fp, all_fn) = (all_tp + tp, all_fp + fp, all_fn + fn_);
            let scores: Vec<f32> = probs.iter().map(|p| p[c]).collect();
            let pos: Vec<bool> = truth.iter().map(|t| t.contains(&c)).collect();
            TagScore {
                tag: classes[c].clone(),
                threshold: thresholds.get(c).copied().unwrap_or(0.5),
                precision: if tp + fp > 0 { tp as f64 / (tp + fp) as f64 } else { 0.0 },
                recall: if tp + fn_ > 0 { tp as f64 / (tp + fn_) as f64 } else { 0.0 },
                f1: f1(tp, fp, fn_),
                support: tp + fn_,
                roc_auc: roc_auc(&scores, &pos),
                pr_auc: pr_auc(&scores, &pos),
            }
        })
        .collect();
    let exact =
        probs.iter().zip(truth).filter(|(p, t)| (0..classes.len()).all(|c| decide(p, c) == t.contains(&c))).count();
    let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let present: Vec<f64> = per_tag.iter().filter(|t| t.support > 0).map(|t| t.f1).collect();
    TagScores {
        n: truth.len(),
        micro_f1: f1(all_tp, all_fp, all_fn),
        macro_f1: mean(present).unwrap_or(0.0),
        exact_match: exact as f64 / truth.len().max(1) as f64,
        mean_roc_auc: mean(per_tag.iter().filter_map(|t| t.roc_auc).collect()),
        mean_pr_auc: mean(per_tag.iter().filter_map(|t| t.pr_auc).collect()),
        per_tag,
    }
}

/// Mean of probability rows (a track's windows -> the track's probabilities).
pub fn mean_rows(rows: &[&[f32]]) -> Vec<f32> {
    let mut m = vec![0.0f32; rows.first().map(|r| r.len()).unwrap_or(0)];
    for r in rows {
        for (a, v) in m.iter_mut().zip(r.iter()) {
            *a += v;
        }
    }
    let n = rows.len().max(1) as f32;
    m.iter_mut().for_each(|v| *v /= n);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_scores_of_known_decisions() {
        let classes: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        // Decisions at 0.5: {a}, {a, b}, {}, {b}; truth: {a}, {a}, {b}, {b}.
        let probs = vec![vec![0.9, 0.1], vec![0.8, 0.7], vec![0.2, 0.3], vec![0.1, 0.6]];
        let truth = vec![vec![0], vec![0], vec![1], vec![1]];
        let s = tag_scores(&probs, &truth, &classes, &[0.5, 0.5]);
        assert_eq!(s.n, 4);
        assert!((s.exact_match - 0.5).abs() < 1e-12);
        // a: tp 2, fp 0, fn 0 -> F1 1; b: tp 1, fp 1, fn 1 -> F1 0.5; micro: tp 3 fp 1 fn 1.
        assert!((s.per_tag[0].f1 - 1.0).abs() < 1e-12);
        assert!((s.per_tag[1].f1 - 0.5).abs() < 1e-12);
        assert!((s.macro_f1 - 0.75).abs() < 1e-12);
        assert!((s.micro_f1 - 0.75).abs() < 1e-12);
        assert_eq!(s.per_tag[1].support, 2);
        // A lower threshold for b turns track 3 into an exact match too.
        assert!((tag_scores(&probs, &truth, &classes, &[0.5, 0.25]).per_tag[1].recall - 1.0).abs() < 1e-12);
    }

    #[test]
    fn scores_of_a_known_confusion() {
        let classes: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let probs = vec![vec![0.9, 0.1], vec![0.2, 0.8], vec![0.6, 0.4], vec![0.3, 0.7]];
        let truth = vec![0, 1, 1, 1];
        let s = single_label(&probs, &truth, &classes);
        assert_eq!(s.confusion, vec![vec![1, 0], vec![1, 2]]);
        assert!((s.accuracy - 0.75).abs() < 1e-12);
        assert!((s.per_class[0].precision - 0.5).abs() < 1e-12);
        assert!((s.per_class[1].recall - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn thresholds_separate_tags() {
        // tag 0 positives score 0.3-0.4, negatives 0.1: the best threshold lies between.
        let probs = vec![vec![0.3, 0.9], vec![0.4, 0.8], vec![0.1, 0.2], vec![0.1, 0.9]];
        let truth = vec![vec![0, 1], vec![0, 1], vec![], vec![1]];
        let th = best_thresholds(&probs, &truth, 2);
        assert!(th[0] > 0.1 && th[0] <= 0.3, "{th:?}");
        assert!(th[1] > 0.2 && th[1] <= 0.8, "{th:?}");
    }

    #[test]
    fn auc_of_perfect_random_and_inverted_rankings() {
        let pos = [true, true, false, false];
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &pos), Some(1.0));
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &pos), Some(0.0));
        assert_eq!(roc_auc(&[0.5, 0.5, 0.5, 0.5], &pos), Some(0.5));
        assert_eq!(pr_auc(&[0.9, 0.8, 0.2, 0.1], &pos), Some(1.0));
        assert_eq!(roc_auc(&[0.1], &[true]), None);
    }
}
