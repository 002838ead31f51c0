//! The Python extension module was built by this same `cargo test` pass (see Cargo.toml) and
//! exports the init function CPython looks for when `import genre._genre` runs. The Python
//! side itself is tested by pytest (`crates/python/tests/test_*.py`, run by scripts/test.sh
//! on this very build).

use std::path::PathBuf;

/// `target/<profile>/deps/lib_genre.so`, beside this test binary (a library built as a
/// dependency stays in `deps/`; scripts/test.sh takes it from there).
fn extension() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("target/<profile>/deps/<test>");
    deps.join(if cfg!(target_os = "macos") { "lib_genre.dylib" } else { "lib_genre.so" })
}

#[cfg(target_os = "linux")]
#[test]
fn the_extension_exports_its_module_init() {
    let path = extension();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..4], b"\x7fELF", "{} is not a shared object", path.display());
    let init = b"PyInit__genre";
    assert!(bytes.windows(init.len()).any(|w| w == init), "{} does not export PyInit__genre", path.display());
}
