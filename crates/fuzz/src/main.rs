//! `genre-fuzz [TARGET|all] [--seconds N] [--seed S] [--mem-mb M] [--findings DIR]`: fuzz for a
//! while, report findings (panics, inputs over 5 s, peak RSS past M MB, default 512). Inputs that panicked are written to `DIR/TARGET/crash-K` (default
//! `target/fuzz-findings`): once fixed, move them into `crates/fuzz/corpus/TARGET/` so every later
//! pass replays them. Exit code 1 when a target panicked or hung.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str, default: u64| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let which = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "all".into());
    let (secs, seed, mem_mb) = (get("--seconds", 60), get("--seed", 1), get("--mem-mb", 512));
    let findings = args
        .iter()
        .position(|a| a == "--findings")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("target/fuzz-findings"));
    let names: Vec<&str> = genre_fuzz::targets().iter().map(|t| t.name).collect();
    if which != "all" && !names.contains(&which.as_str()) {
        eprintln!("genre-fuzz: no target '{which}' (all, {})", names.join(", "));
        std::process::exit(2);
    }
    // Quiet: panics are findings, counted and listed below.
    std::panic::set_hook(Box::new(|_| {}));
    let mut bad = false;
    for t in genre_fuzz::targets().iter().filter(|t| which == "all" || t.name == which) {
        let r = genre_fuzz::fuzz(
            t,
            seed,
            std::time::Duration::from_secs(secs),
            u64::MAX,
            std::time::Duration::from_secs(5),
            mem_mb,
        );
        println!(
            "{:<14} {:>8} inputs in {secs} s, {} panics, {} over 5 s (slowest {:.2} s), {} past {mem_mb} MB, peak RSS {} MB",
            t.name,
            r.executions,
            r.panics.len(),
            r.slow.len(),
            r.slowest_secs,
            r.hungry.len(),
            r.peak_rss_mb,
        );
        for p in r.panics.iter().take(5) {
            println!("  panic: {p}");
        }
        for (k, input) in r.crashes.iter().enumerate() {
            let path = findings.join(t.name).join(format!("crash-{k}"));
            let saved = std::fs::create_dir_all(findings.join(t.name)).and_then(|_| std::fs::write(&path, input));
            match saved {
                Ok(()) => println!("  saved {}", path.display()),
                Err(e) => println!("  could not save {}: {e}", path.display()),
            }
        }
        bad |= !r.panics.is_empty() || !r.slow.is_empty() || !r.hungry.is_empty();
    }
    std::process::exit(bad as i32);
}
