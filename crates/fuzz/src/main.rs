//! `genre-fuzz [TARGET|all] [--seconds N] [--seed S]`: fuzz for a while, report findings.
//! Exit code 1 when a target panicked or hung.

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
    let (secs, seed) = (get("--seconds", 60), get("--seed", 1));
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
        );
        let rss = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM"))
                    .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
            })
            .unwrap_or_default();
        println!(
            "{:<14} {:>8} inputs in {secs} s, {} panics, {} over 5 s (slowest {:.2} s), peak RSS so far {} MB",
            t.name,
            r.executions,
            r.panics.len(),
            r.slow.len(),
            r.slowest_secs,
            rss.parse::<u64>().map(|k| k / 1024).unwrap_or(0)
        );
        for p in r.panics.iter().take(5) {
            println!("  panic: {p}");
        }
        bad |= !r.panics.is_empty() || !r.slow.is_empty();
    }
    std::process::exit(bad as i32);
}
