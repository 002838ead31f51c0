//! "None of my genres": telling music outside a model's genres from music inside them, with a
//! broader vocabulary beside the answer.
//!
//! The signal is musicnn-MSD's own tags (Last.fm tags of 200 000 songs), which a transfer head
//! on the MSD penultimate layer gets for one small product per window: the strongest genre tag
//! that names none of the model's genres, minus the strongest that names one of them. Why this
//! and not the head's own uncertainty or the embedding's distance from the training data:
//! holding each GTZAN genre out in turn (`benches/fusion/outside.py`), those flagged only
//! 8% and 15% of the held-out genre's tracks at 5% false flags (AUROC 0.65 and 0.73), while
//! the tags name what the music is; at [`THRESHOLD`] they flag 7% of the 424 in-genre GTZAN
//! tracks of `../shared` (metal with strong "punk" and reggae with "soul"/"funk" the most).

use genre_model::metrics::top_k;
use genre_model::musicnn::MSD_LABELS;
use serde::Serialize;

/// MSD tags that name a genre or a family of genres (the others name moods, eras, voices).
pub const MSD_GENRE_TAGS: [&str; 30] = [
    "rock",
    "pop",
    "alternative",
    "indie",
    "electronic",
    "dance",
    "alternative rock",
    "jazz",
    "metal",
    "chillout",
    "classic rock",
    "soul",
    "indie rock",
    "electronica",
    "folk",
    "punk",
    "blues",
    "hard rock",
    "ambient",
    "experimental",
    "Hip-Hop",
    "country",
    "easy listening",
    "funk",
    "electro",
    "heavy metal",
    "Progressive rock",
    "rnb",
    "indie pop",
    "House",
];

/// How far the strongest outside genre tag must lead the strongest inside one.
pub const THRESHOLD: f32 = 0.2;

/// Genre tags shown beside an answer.
pub const SHOWN: usize = 5;

/// A file's tags judged against a model's genres.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The music sounds like none of the model's genres.
    pub outside: bool,
    /// Strongest outside tag minus strongest inside tag (the flag is `score > THRESHOLD`).
    pub score: f32,
    /// The strongest genre tags, most likely first (all of them, inside or not).
    pub genre_tags: Vec<(String, f32)>,
    /// The strongest genre tags that name none of the model's genres.
    pub closest_outside: Vec<String>,
}

/// Squashed for matching: "Hip-Hop" = "hiphop", "Progressive rock" = "progressiverock".
fn key(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Whether MSD tag `tag` names class `class`: the same word, or a family of it ("hard rock" and
/// "indie rock" are rock, "heavy metal" is metal).
fn names(tag: &str, class: &str) -> bool {
    let (t, c) = (key(tag), key(class));
    !c.is_empty() && (t == c || (t.ends_with(&c) && c.len() >= 4))
}

/// Judge a file's mean MSD taggram (`[50]`, in [`MSD_LABELS`] order) against `classes`.
pub fn judge(classes: &[String], msd_tags: &[f32]) -> Verdict {
    let genre: Vec<(usize, bool)> = MSD_GENRE_TAGS
        .iter()
        .filter_map(|t| MSD_LABELS.iter().position(|l| l == t))
        .map(|i| (i, classes.iter().any(|c| names(MSD_LABELS[i], c))))
        .collect();
    let strongest = |inside: bool| {
        genre.iter().filter(|&&(_, ins)| ins == inside).map(|&(i, _)| msd_tags[i]).fold(0.0f32, f32::max)
    };
    let score = strongest(false) - strongest(true);
    let probs: Vec<f32> = genre.iter().map(|&(i, _)| msd_tags[i]).collect();
    let order = top_k(&probs, probs.len());
    let genre_tags = order.iter().take(SHOWN).map(|&k| (MSD_LABELS[genre[k].0].to_string(), probs[k])).collect();
    let closest_outside =
        order.iter().filter(|&&k| !genre[k].1).take(2).map(|&k| MSD_LABELS[genre[k].0].to_string()).collect();
    Verdict { outside: score > THRESHOLD, score, genre_tags, closest_outside }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gtzan() -> Vec<String> {
        "blues classical country disco hiphop jazz metal pop reggae rock".split(' ').map(String::from).collect()
    }

    fn tags(set: &[(&str, f32)]) -> Vec<f32> {
        let mut v = vec![0.01; 50];
        for (name, p) in set {
            v[MSD_LABELS.iter().position(|l| l == name).unwrap()] = *p;
        }
        v
    }

    #[test]
    fn class_names_match_their_tags_and_families() {
        assert!(names("Hip-Hop", "hiphop"));
        assert!(names("hard rock", "rock") && names("indie rock", "rock") && names("heavy metal", "metal"));
        assert!(!names("indie pop", "rock") && !names("electronic", "rock") && !names("pop", "hiphop"));
    }

    #[test]
    fn electronic_music_is_outside_gtzan_and_rock_is_not() {
        let v = judge(&gtzan(), &tags(&[("electronic", 0.6), ("dance", 0.4), ("Hip-Hop", 0.2)]));
        assert!(v.outside, "{v:?}");
        assert_eq!(v.closest_outside, ["electronic", "dance"]);
        assert_eq!(v.genre_tags[0].0, "electronic");
        let v = judge(&gtzan(), &tags(&[("rock", 0.5), ("indie", 0.3), ("hard rock", 0.4)]));
        assert!(!v.outside, "{v:?}");
    }

    #[test]
    fn a_model_of_other_genres_has_other_outsides() {
        let classes = vec!["electronic".to_string(), "folk".to_string()];
        let v = judge(&classes, &tags(&[("electronic", 0.6), ("dance", 0.4)]));
        assert!(!v.outside, "{v:?}");
        let v = judge(&classes, &tags(&[("jazz", 0.7)]));
        assert!(v.outside && v.closest_outside[0] == "jazz", "{v:?}");
    }
}
