#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs every test (Rust, the web
# app in Chromium, the Python package). A fresh clone with a Rust toolchain, Python 3 and
# Node.js passes it as written; `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found: install Python 3.9+ first" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm not found: install Node.js first" >&2; exit 1; }

# The web app's browser test drives Debian's Chromium through playwright-core.
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium
fi
npm ci --prefix crates/server/tests/browser --no-audit --no-fund

# Python: a private venv (.venv) with pytest, numpy, and librosa for the parity checks that have
# no stored reference.
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r crates/python/requirements-test.txt

# Parity and real-music tests read ../shared (librosa and TensorFlow references, GTZAN clips).
SHARED=${GENRE_SHARED:-../shared}
[ -d "$SHARED/reference" ] || echo "warning: $SHARED/reference not found; parity tests will fail (set GENRE_SHARED)" >&2

echo "== Rust tests"
cargo test --workspace --release --no-fail-fast

echo "== Python package"
# The extension module was built by the cargo pass above (crates/python/Cargo.toml says why):
# put it beside the package's Python files and test that. GENRE_TEST_WHEEL=1 also builds the
# wheel with maturin, installs it and tests the installed package (one more full compile).
stage=target/python-package
rm -rf "$stage" && mkdir -p "$stage"
cp -r crates/python/python/genre "$stage/genre"
cp target/release/deps/lib_genre.so "$stage/genre/_genre.abi3.so"
PYTHONPATH="$stage" .venv/bin/python -m pytest -q crates/python/tests
if [ "${GENRE_TEST_WHEEL:-0}" = 1 ]; then
  .venv/bin/pip install -q --disable-pip-version-check "maturin>=1.5,<2"
  rm -rf target/wheels
  .venv/bin/maturin build --release -m crates/python/Cargo.toml --out target/wheels
  .venv/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps target/wheels/*.whl
  (cd /tmp && "$OLDPWD/.venv/bin/python" -m pytest -q "$OLDPWD/crates/python/tests")
fi
