//! CI's short seeded pass of every fuzz target (the long runs are `genre-fuzz TARGET --seconds N`).

#[test]
fn every_target_survives_a_short_seeded_pass() {
    for t in genre_fuzz::targets() {
        let r =
            genre_fuzz::fuzz(&t, 7, std::time::Duration::from_secs(20), 300, std::time::Duration::from_secs(5), 1024);
        println!(
            "{}: {} inputs, {} panics, slowest {:.2} s, peak RSS {} MB",
            t.name,
            r.executions,
            r.panics.len(),
            r.slowest_secs,
            r.peak_rss_mb
        );
        assert!(r.panics.is_empty(), "{}: {:?}", t.name, r.panics);
        assert!(r.slow.is_empty(), "{}: inputs over 5 s: {:?}", t.name, r.slow);
        assert!(r.hungry.is_empty(), "{}: peak RSS past 1 GB after inputs of {:?}", t.name, r.hungry);
    }
}
