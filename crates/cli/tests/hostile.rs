//! Hostile inputs from the outside: each case is built on the fly; the good files of a batch are
//! still answered, the bad ones named with their cause, and nothing panics. Every child runs with
//! its address space capped, so an allocation sized by a header's claim fails the test (as an
//! abort) instead of passing on a machine with memory to spare.

mod common;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::s;
use genre_testkit::lying;

/// Address space allowed to every child (512 MB): the built-in models and their worker threads
/// fit twice over (a predict needs under 256 MB); listing the windows of an MP3 whose header
/// claims 31 hours (600 MB, fixed) did not.
const ADDRESS_SPACE: u64 = 1 << 29;

/// `genre` under the address-space cap.
fn genre() -> Command {
    let mut cmd = common::genre();
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: ADDRESS_SPACE, rlim_max: ADDRESS_SPACE };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// A child that died of a signal (an abort from a failed allocation, the OOM killer) or panicked.
fn assert_no_crash(out: &std::process::Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some(), "killed by a signal: {:?}\n{err}", out.status);
    assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{err}");
}
use genre_audio::synth::genre_clip;
use genre_audio::wav::write_wav_mono16;

/// A 16-bit mono WAV header claiming `rate` Hz, followed by a little data.
fn wav_claiming(rate: u32) -> Vec<u8> {
    wav_header(rate, 1, 16, 800)
}

/// A PCM WAV whose header claims `rate`, `channels`, `bits` and `data_claim` bytes, holding 800.
fn wav_header(rate: u32, channels: u16, bits: u16, data_claim: u32) -> Vec<u8> {
    lying::wav(rate, channels, bits, Some(data_claim), &[7; 800])
}

/// Header fields that would size buffers (data length, channels, sample width) claim far more
/// than the file holds: each file is answered or refused by name, in bounded memory, and the
/// good file of the batch is answered; the count of failures is of inputs, not of messages.
#[test]
fn header_claims_do_not_size_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_wav_mono16(&good, &genre_clip(0, 4.0, 22050, 1), 22050).unwrap();
    let cases = [
        ("data4g.wav", wav_header(22050, 1, 16, u32::MAX)),
        ("chan65535.wav", wav_header(22050, u16::MAX, 16, 800)),
        ("bits65535.wav", wav_header(22050, 1, u16::MAX, 800)),
        ("bits0.wav", wav_header(22050, 1, 0, 800)),
        ("rate768k_stereo_4g.wav", wav_header(768_000, 2, 32, u32::MAX - 7)),
        // Its Xing tag claims 31 hours: windows were once listed for the whole claim (600 MB).
        ("xing_claims_31h.mp3", lying::mp3(u32::MAX, 40)),
    ];
    let mut args = vec!["predict".to_string(), "--json".into(), s(&good).into()];
    for (name, bytes) in &cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        args.push(s(&p).into());
    }
    let missing = dir.path().join("missing.wav");
    args.push(s(&missing).into());
    let out = genre().args(&args).output().unwrap();
    assert_no_crash(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let answered: Vec<String> = v["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["file"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    let failed = v["failures"].as_array().unwrap();
    assert!(answered.contains(&"good.wav".to_string()), "{answered:?}\n{err}");
    for (name, _) in cases.iter().chain([&("missing.wav", vec![])]) {
        let named = failed.iter().filter(|f| f.as_str().unwrap().contains(name)).count();
        assert_eq!(answered.contains(&name.to_string()) as usize + named, 1, "{name}: {answered:?} {failed:?}");
    }
    assert!(err.contains(&format!("{} of 8 files failed", failed.len())), "{err}");
    // The missing file is named once in its failure line, not twice.
    let line = err.lines().find(|l| l.contains("missing.wav")).unwrap();
    assert_eq!(line.matches("missing.wav").count(), 1, "{line}");
}

const CAP_SETPCAP: u32 = 8;

/// Whether this process holds capability `cap` (its effective set in /proc/self/status).
fn has_capability(cap: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:")).map(str::trim).unwrap_or("0");
    u64::from_str_radix(hex, 16).is_ok_and(|bits| bits >> cap & 1 == 1)
}

/// A folder that cannot be read is reported; its siblings are still walked and answered.
/// Tests usually run as root, whom permissions do not stop: the child then gives up the two
/// capabilities that bypass them, so root meets the folder's mode 000 as anyone would.
#[test]
fn an_unreadable_folder_costs_only_itself() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    for sub in ["a", "locked", "z"] {
        std::fs::create_dir_all(music.join(sub)).unwrap();
        write_wav_mono16(&music.join(sub).join(format!("{sub}.wav")), &genre_clip(0, 3.0, 22050, 1), 22050).unwrap();
    }
    // Root without CAP_SETPCAP (a locked-down container) cannot give the bypass up: nothing can
    // be unreadable to it, so there is nothing to test; say so rather than pass silently.
    if unsafe { libc::geteuid() } == 0 && !has_capability(CAP_SETPCAP) {
        eprintln!("SKIPPED: root without CAP_SETPCAP cannot make a folder unreadable to itself");
        return;
    }
    let locked = music.join("locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let without_override = |mut cmd: Command| {
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::geteuid() == 0 {
                    // CAP_DAC_OVERRIDE (1) and CAP_DAC_READ_SEARCH (2), out of the bounding set:
                    // after exec root no longer holds them.
                    for cap in [1, 2] {
                        if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                }
                Ok(())
            });
        }
        cmd
    };
    let out = without_override(genre()).args(["predict", s(&music), "--json"]).output();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap(); // so it can be removed
    let out = out.expect("dropping the capabilities needs CAP_SETPCAP, which root holds");
    assert_no_crash(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let answered: Vec<&str> =
        v["predictions"].as_array().unwrap().iter().map(|p| p["file"].as_str().unwrap()).collect();
    assert_eq!(answered.len(), 2, "{answered:?}");
    assert!(answered[0].ends_with("a.wav") && answered[1].ends_with("z.wav"), "{answered:?}");
    assert!(err.lines().any(|l| l.contains("locked") && l.contains("Permission denied")), "{err}");
    assert!(err.contains("1 of 3 files failed"), "{err}");
}

#[test]
fn bad_headers_and_link_loops_cost_only_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir_all(music.join("sub")).unwrap();
    write_wav_mono16(&music.join("good.wav"), &genre_clip(0, 4.0, 22050, 1), 22050).unwrap();
    for (name, rate) in [("rate0.wav", 0), ("rate1.wav", 1), ("ratemax.wav", u32::MAX)] {
        std::fs::write(music.join("sub").join(name), wav_claiming(rate)).unwrap();
    }
    // A folder linked to itself, and a link back to the top.
    std::os::unix::fs::symlink(music.join("sub"), music.join("sub").join("again")).unwrap();
    std::os::unix::fs::symlink(&music, music.join("sub").join("top")).unwrap();
    let out = genre().args(["predict", s(&music), "--json"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let answered: Vec<&str> =
        v["predictions"].as_array().unwrap().iter().map(|p| p["file"].as_str().unwrap()).collect();
    assert_eq!(answered.len(), 1, "the good file, once: {answered:?}");
    assert!(answered[0].ends_with("good.wav"));
    for (name, cause) in
        [("rate0.wav", "sample rate 0 Hz"), ("rate1.wav", "sample rate 1 Hz"), ("ratemax.wav", "4294967295")]
    {
        assert!(err.lines().any(|l| l.contains(name) && l.contains(cause)), "{name} not reported:\n{err}");
    }
    assert!(err.contains("symbolic link loop"), "{err}");
    // --json carries the failures too, for programs.
    let failed: Vec<&str> = v["failures"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(failed.iter().any(|f| f.contains("rate0.wav")) && failed.iter().any(|f| f.contains("loop")), "{failed:?}");
}

/// Model cards that could only crash or answer NaN are refused at load, naming the field.
#[test]
fn broken_model_cards_are_refused_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("a.wav");
    write_wav_mono16(&clip, &genre_clip(0, 2.0, 22050, 1), 22050).unwrap();
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gtzan57");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("model.json")).unwrap()).unwrap();
    let cases: [(&str, &str, serde_json::Value); 6] = [
        ("/classes/1", "classes", card["classes"][0].clone()),
        ("/normalization/std", "normalization.std", serde_json::json!([0.0])),
        ("/normalization/mean", "normalization", serde_json::json!([1.0, 2.0])),
        ("/features/window_secs", "window_secs", serde_json::json!(0.0)),
        ("/features/hop", "features.hop", serde_json::json!(0)),
        ("/features/sr", "features.sr", serde_json::json!(4_000_000_000u64)),
    ];
    for (pointer, field, value) in cases {
        let model = dir.path().join(field.replace('.', "_"));
        std::fs::create_dir_all(&model).unwrap();
        std::fs::copy(base.join("model.safetensors"), model.join("model.safetensors")).unwrap();
        let mut c = card.clone();
        *c.pointer_mut(pointer).unwrap() = value;
        if pointer == "/normalization/std" {
            c["normalization"]["mean"] = serde_json::json!([0.0]);
        }
        std::fs::write(model.join("model.json"), c.to_string()).unwrap();
        let out = genre().args(["predict", s(&clip), "--model", s(&model)]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{field}: {err}");
        assert!(err.contains(field) && !err.contains("panicked"), "{field}: {err}");
    }
}

/// A weights file far larger than its card's model is refused before it is read: a sparse 4 GB
/// file under the 512 MB cap would otherwise abort the process.
#[test]
fn an_oversized_weights_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("a.wav");
    write_wav_mono16(&clip, &genre_clip(0, 2.0, 22050, 1), 22050).unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gtzan57");
    std::fs::copy(base.join("model.json"), model.join("model.json")).unwrap();
    let weights = std::fs::File::create(model.join("model.safetensors")).unwrap();
    weights.set_len(4 << 30).unwrap(); // sparse: no disk used
    let out = genre().args(["predict", s(&clip), "--model", s(&model)]).output().unwrap();
    assert_no_crash(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("model.safetensors") && err.contains("far more"), "{err}");
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("a.wav");
    // 11 minutes: 220 taggram rows of 50 values, more than a pipe holds (64 KB).
    write_wav_mono16(&clip, &genre_clip(1, 660.0, 22050, 2), 22050).unwrap();
    // `genre tag ... --csv --segments | head -c 1`: the reader closes after one byte.
    let mut child = genre()
        .args(["tag", s(&clip), "--csv", "--segments"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut one = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut one).unwrap(); // then dropped: the pipe closes
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    // Ended by SIGPIPE, as `cat` or `grep` would be, not by a panic (exit 101).
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?} {err}");
}

/// `genre eval` finds a run's split under another spelling of the same folder.
#[test]
fn eval_recognises_the_same_data_under_another_path() {
    let dir = tempfile::tempdir().unwrap();
    genre_audio::synth::write_genre_folder(&dir.path().join("syn"), 3, 4, 2.0, 22050, 3).unwrap();
    let run = |args: &[&str]| {
        let out = genre().current_dir(dir.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "train",
        "./syn",
        "--model",
        "features",
        "--out",
        "run",
        "--epochs",
        "2",
        "--valid-frac",
        "0.25",
        "--test-frac",
        "0.25",
        "-q",
    ]);
    let abs = dir.path().join("syn");
    run(&["eval", "run", s(&abs), "--part", "valid", "-q"]);
}

/// An output path that cannot be written is named, with exit 2, and not blamed on the input.
#[test]
fn a_missing_output_folder_is_the_commands_fault() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("a.wav");
    write_wav_mono16(&clip, &genre_clip(0, 1.0, 22050, 1), 22050).unwrap();
    let out = dir.path().join("nonexist/x.npy");
    let r = genre().args(["features", s(&clip), "--kind", "logmel", "--out", s(&out)]).output().unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("nonexist") && !err.contains("a.wav"), "{err}");
}

/// Manifests are checked line by line before any work: every problem named with its line.
#[test]
fn broken_manifests_are_refused_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.wav", "b.wav", "c.wav"] {
        write_wav_mono16(&dir.path().join(name), &genre_clip(0, 1.0, 22050, 1), 22050).unwrap();
    }
    let csv = dir.path().join("m.csv");
    std::fs::write(&csv, "path,labels\na.wav,rock\nb.wav,\na.wav,jazz\nmissing.wav,pop\nc.wav,jazz\n").unwrap();
    let out = genre().args(["train", s(&csv), "--out", s(&dir.path().join("run")), "-q"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for want in
        ["line 3: b.wav: no label", "line 4: a.wav is already listed on line 2", "line 5:", "missing.wav: no such file"]
    {
        assert!(err.contains(want), "{want} not in:\n{err}");
    }
    // One class only: nothing to tell apart.
    std::fs::write(&csv, "path,labels\na.wav,rock\nb.wav,rock\n").unwrap();
    let out = genre().args(["train", s(&csv), "--out", s(&dir.path().join("run")), "-q"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one class"));
}

/// Training that had to skip unreadable tracks says so and exits 1, as predict does.
#[test]
fn training_that_skipped_inputs_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("music");
    genre_audio::synth::write_genre_folder(&data, 2, 4, 2.0, 22050, 4).unwrap();
    let first_genre = std::fs::read_dir(&data).unwrap().next().unwrap().unwrap().path();
    std::fs::write(first_genre.join("broken.wav"), wav_claiming(0)).unwrap();
    let out = genre()
        .args([
            "train",
            s(&data),
            "--model",
            "features",
            "--window",
            "1",
            "--epochs",
            "1",
            "--out",
            s(&dir.path().join("run")),
            "-q",
        ])
        .args(["--cache", s(&dir.path().join("cache")), "--valid-frac", "0.25", "--test-frac", "0.25"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("broken.wav") && err.contains("skipped"), "{err}");
}

/// Inputs of the same name from two folders would overwrite each other's output: refused.
#[test]
fn output_collisions_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["d1", "d2"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
        write_wav_mono16(&dir.path().join(d).join("a.wav"), &genre_clip(0, 1.0, 22050, 1), 22050).unwrap();
    }
    let out = dir.path().join("out");
    let r = genre()
        .args(["features", s(&dir.path().join("d1")), s(&dir.path().join("d2")), "--kind", "mfcc", "--out", s(&out)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("d1") && err.contains("d2") && err.contains("a.npy"), "{err}");
    assert!(!out.join("a.npy").exists(), "nothing written");
}

/// Silence and near-empty files still get an answer, but flagged as meaningless.
#[test]
fn silent_and_tiny_inputs_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let (silent, tiny, fine) =
        (dir.path().join("silent.wav"), dir.path().join("tiny.wav"), dir.path().join("fine.wav"));
    write_wav_mono16(&silent, &vec![0.0; 5 * 22050], 22050).unwrap();
    write_wav_mono16(&tiny, &genre_clip(0, 0.3, 22050, 1), 22050).unwrap();
    write_wav_mono16(&fine, &genre_clip(0, 4.0, 22050, 1), 22050).unwrap();
    let out = genre().args(["predict", s(&silent), s(&tiny), s(&fine), "--json"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warn = |i: usize| v["predictions"][i]["warning"].as_str().map(String::from);
    assert!(warn(0).is_some_and(|w| w.contains("silent")), "{v}");
    assert!(warn(1).is_some_and(|w| w.contains("too short")), "{v}");
    assert_eq!(warn(2), None);
    assert!(err.contains("silent.wav") && err.contains("tiny.wav"), "{err}");
    // tag, embed and explain warn too; explain draws no evidence on silence.
    for cmd in [&["tag"][..], &["embed", "--out", s(&dir.path().join("e.npy"))]] {
        let mut args = cmd.to_vec();
        args.extend([s(&silent), s(&tiny)]);
        let out = genre().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("warning: ") && err.contains("silent") && err.contains("too short"), "{}: {err}", cmd[0]);
    }
    let json = dir.path().join("cam.json");
    let out = genre().args(["explain", s(&silent), "--json", s(&json)]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("silent"), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(doc["warning"].as_str().is_some_and(|w| w.contains("silent")), "{doc}");
    assert!(doc["cam"]["seconds"].as_array().unwrap().iter().all(|v| v.as_f64() == Some(0.0)), "{doc}");
}

/// GTZAN-57 of an hour-long file would need gigabytes: past its limit it is refused by name, and
/// a cut of the file works.
#[test]
fn gtzan57_of_a_long_file_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.wav");
    write_wav_mono16(&long, &genre_clip(2, 660.0, 22050, 1), 22050).unwrap();
    let table = dir.path().join("t.csv");
    let out = genre().args(["features", s(&long), "--kind", "gtzan57", "--out", s(&table), "-q"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("long.wav") && err.contains("600 s limit") && err.contains("--duration"), "{err}");
    let out = genre()
        .args(["features", s(&long), "--kind", "gtzan57", "--duration", "30", "--out", s(&table), "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A failed run leaves no half-written output; a good one leaves exactly its output.
#[test]
fn failed_outputs_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = (dir.path().join("good.wav"), dir.path().join("bad.wav"));
    write_wav_mono16(&good, &genre_clip(0, 2.0, 22050, 1), 22050).unwrap();
    std::fs::write(&bad, wav_claiming(0)).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let r = genre().args(["features", s(&good), s(&bad), "--kind", "logmel", "--out", s(&out), "-q"]).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    let names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec!["good.npy".to_string()], "no temporary or partial files");
}

/// Waits for `child` at most `secs`, killing it (and failing) if it is still running: a special
/// file must be refused, not block the command forever.
fn finish_within(mut child: std::process::Child, secs: u64, what: &str) -> std::process::Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed().as_secs() > secs {
            child.kill().unwrap();
            panic!("{what}: still running after {secs} s (blocked on a special file?)");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn run_capped(args: &[&str], what: &str) -> std::process::Output {
    let child = genre().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let out = finish_within(child, 120, what);
    assert_no_crash(&out);
    out
}

fn mkfifo(p: &std::path::Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", p.display());
}

/// FIFOs and devices given where files are read (audio in a batch, manifest, table, split
/// lists, weights, checkpoint) are refused by name without blocking and without reading
/// `/dev/zero` without end: exit 1 in a batch (the good file answered), 2 for a model or data.
#[test]
fn special_files_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_wav_mono16(&good, &genre_clip(0, 3.0, 22050, 1), 22050).unwrap();
    let fifo = dir.path().join("pipe.wav");
    mkfifo(&fifo);
    let emb = dir.path().join("emb.npy");
    for cmd in [&["predict"][..], &["tag"], &["embed", "--out", s(&emb)]] {
        let mut args = cmd.to_vec();
        args.extend([s(&fifo), s(&good)]);
        let out = run_capped(&args, cmd[0]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", cmd[0]);
        assert!(err.contains("pipe.wav") && err.contains("FIFO"), "{}: {err}", cmd[0]);
    }
    let out = run_capped(&["explain", s(&fifo), "--json", s(&dir.path().join("x.json"))], "explain");
    assert!(String::from_utf8_lossy(&out.stderr).contains("FIFO"), "{}", String::from_utf8_lossy(&out.stderr));
    let npy = dir.path().join("x.npy");
    let out = run_capped(&["features", s(&fifo), "--kind", "mfcc", "--out", s(&npy)], "features");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    // Data and models: exit 2, the file and its kind named.
    let manifest = dir.path().join("m.csv");
    mkfifo(&manifest);
    let run = dir.path().join("run");
    for (data, kind) in [(s(&manifest), "FIFO"), ("/dev/zero", "character device")] {
        let out = run_capped(&["train", data, "--model", "features", "--out", s(&run), "-q"], "train");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{data}: {err}");
        assert!(err.contains(data) && err.contains(kind), "{data}: {err}");
    }
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gtzan57");
    std::fs::copy(base.join("model.json"), model.join("model.json")).unwrap();
    mkfifo(&model.join("model.safetensors"));
    let out = run_capped(&["predict", s(&good), "--model", s(&model)], "weights");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("model.safetensors") && err.contains("FIFO"), "{err}");
}

/// A manifest label of 100 000 characters (it once asked the confusion picture for 830 GB and
/// lost the model) and a stray quote (it swallowed the following lines into one label) are
/// refused up front, naming the line; a feature table's non-finite cells, repeated columns and
/// missing GTZAN-57 columns are refused naming row and column.
#[test]
fn manifests_and_tables_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    for (k, g) in ["a", "b"].iter().enumerate() {
        write_wav_mono16(&dir.path().join(format!("{g}.wav")), &genre_clip(k, 2.0, 22050, 1), 22050).unwrap();
    }
    let long = "x".repeat(1_000);
    let cases = [
        (format!("path,labels\na.wav,{long}\nb.wav,b\n"), "line 2", "longer than 100 characters"),
        ("path,labels\na.wav,\"\nb.wav,b\nc.wav,c\n".to_string(), "line 2", "quote"),
        (format!("path,labels\na.wav,a\nb.wav,{}\n", "y".repeat(70_000)), "line 3", "longer than 65536 bytes"),
    ];
    for (i, (text, line, why)) in cases.iter().enumerate() {
        let m = dir.path().join(format!("m{i}.csv"));
        std::fs::write(&m, text).unwrap();
        let out = run_capped(&["train", s(&m), "--model", "cnn", "--out", s(&dir.path().join("run")), "-q"], why);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{why}: {err}");
        assert!(err.contains(line) && err.contains(why), "{why}: {err}");
    }
    let table = genre_testkit::gtzan_dir().join("features_30_sec.csv");
    let text = std::fs::read_to_string(&table).unwrap();
    let lines: Vec<&str> = text.lines().take(30).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let edit = |f: &dyn Fn(&mut Vec<Vec<String>>)| {
        let mut rows: Vec<Vec<String>> = lines.iter().map(|l| l.split(',').map(String::from).collect()).collect();
        f(&mut rows);
        rows.iter().map(|r| r.join(",")).collect::<Vec<_>>().join("\n")
    };
    let col = header.iter().position(|h| *h == "tempo").unwrap();
    let cases: [(String, &str); 3] = [
        (edit(&|r| r[5][col] = "1e308".into()), "row 6: column tempo is not a finite number"),
        (
            edit(&|r| {
                r.iter_mut()
                    .for_each(|row| row.insert(3, if row[0] == "filename" { "label".into() } else { "1".into() }))
            }),
            "'label' appears twice",
        ),
        (
            edit(&|r| {
                r.iter_mut().for_each(|row| {
                    row.remove(col);
                })
            }),
            "lacks 1 column(s): tempo",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let t = dir.path().join(format!("t{i}.csv"));
        std::fs::write(&t, text).unwrap();
        let out = run_capped(&["train", s(&t), "--model", "features", "--out", s(&dir.path().join("run")), "-q"], want);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{want}: {err}");
        assert!(err.contains(want), "{want}: {err}");
    }
}

/// A split.json edited after training is refused by eval (its valid side would no longer be
/// the one the model was chosen on); a resume from an inconsistent checkpoint is refused
/// rather than reporting "best epoch 3 of 2".
#[test]
fn edited_run_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let table = genre_testkit::gtzan_dir().join("features_30_sec.csv");
    let run = dir.path().join("run");
    let lists = format!(
        "{},{}",
        genre_testkit::gtzan_dir().join("splits/train.txt").display(),
        genre_testkit::gtzan_dir().join("splits/valid.txt").display()
    );
    let train = ["train", s(&table), "--model", "features", "--lists", &lists, "--epochs", "2", "--out", s(&run), "-q"];
    let out = run_capped(&train, "train");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run_capped(&["eval", s(&run), s(&table), "-q"], "eval");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let split = run.join("split.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&split).unwrap()).unwrap();
    let moved = v["train"].as_array_mut().unwrap().pop().unwrap();
    v["valid"].as_array_mut().unwrap().push(moved);
    std::fs::write(&split, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let out = run_capped(&["eval", s(&run), s(&table), "-q"], "eval after edit");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("changed after training"), "{err}");

    // A finished run keeps its checkpoint; make its state claim a best epoch beyond those done
    // and start the same run again.
    let st = run.join("checkpoint/state.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&st).unwrap()).unwrap();
    v["best_epoch"] = serde_json::json!(v["epochs_done"].as_u64().unwrap() + 1);
    std::fs::write(&st, v.to_string()).unwrap();
    let out = run_capped(&train, "resume");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("best epoch 3 of 2") && err.contains("checkpoint"), "{err}");
}

/// A file too long for the picture (over 30 minutes) still gets its JSON; the picture is skipped
/// with a warning and exit 1, instead of exit 2 and nothing after the work was done.
#[test]
fn explain_writes_its_json_when_the_picture_cannot_be_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.wav");
    let sr = 8000; // the decoder resamples; a low rate keeps the file small (31 min = 30 MB)
    let y: Vec<f32> = (0..31 * 60 * sr).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect();
    write_wav_mono16(&long, &y, sr as u32).unwrap();
    let (png, json) = (dir.path().join("cam.png"), dir.path().join("cam.json"));
    let out = run_capped(&["explain", s(&long), "--out", s(&png), "--json", s(&json), "--max-windows", "4"], "explain");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("picture not drawn"), "{err}");
    assert!(!png.exists());
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(doc["cam"]["seconds"].as_array().is_some_and(|s| s.len() > 1800), "{doc}");
    assert!(doc["picture"]["error"].is_string());
}
