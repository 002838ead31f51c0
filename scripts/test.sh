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

# Python: a private venv (.venv) with maturin to build the package, pytest, and librosa for the
# parity checks that have no stored reference.
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r crates/python/requirements-test.txt

# Parity and real-music tests read ../shared (librosa and TensorFlow references, GTZAN clips).
SHARED=${GENRE_SHARED:-../shared}
[ -d "$SHARED/reference" ] || echo "warning: $SHARED/reference not found; parity tests will fail (set GENRE_SHARED)" >&2

echo "== Rust tests"
cargo test --workspace --release

echo "== Python package"
rm -rf target/wheels
.venv/bin/maturin build --release -q -m crates/python/Cargo.toml --out target/wheels
.venv/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps target/wheels/*.whl
.venv/bin/python -m pytest -q crates/python/tests
