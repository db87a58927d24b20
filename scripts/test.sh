#!/usr/bin/env bash
# Cairn's one test command: sets up what the tests need (idempotently) and
# runs every check: formatting, clippy (-D warnings), no unused dependencies, the Rust workspace
# (cargo test on SQLite and PostgreSQL, which replays every fuzz corpus input through its
# target's check), the browser tests (node:test + playwright-core + Debian's Chromium)
# and the interop tests against independent verifiers.
#
#   ./scripts/test.sh               everything
#   ./scripts/test.sh --no-browser  skip Chromium, npm and the browser tests
#   ./scripts/test.sh --no-interop  skip installing and running the peer verifiers
#   ./scripts/test.sh --fuzz        also fuzz every cargo-fuzz target for a while (a second,
#                                   sanitizer build of the workspace: not part of the default run)
#
# Environment:
#   CAIRN_TEST_DATABASE_URL  PostgreSQL for the storage and API tests (mandatory); default
#                            postgres://postgres@127.0.0.1:5432/test, started when installed
#   CHROMIUM_PATH            browser for the browser tests (default /usr/bin/chromium)
#   CAIRN_FUZZ_SECONDS       seconds per fuzz target with --fuzz (default 20)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$PWD
BROWSER_DIR=$REPO_ROOT/tests/browser
DEFAULT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
PG_HOST=127.0.0.1
PG_PORT=5432

log() { printf '==> %s\n' "$*"; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() { printf '==> ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# 1. Debian's Chromium (and a font, so screenshots are readable).
ensure_chromium() {
  local chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
  local pkgs=()
  if [[ ! -x $chromium ]]; then
    [[ $chromium == /usr/bin/chromium ]] || die "CHROMIUM_PATH=$chromium is not an executable"
    pkgs+=(chromium)
  fi
  if ! dpkg-query -W -f='${Status}' fonts-dejavu-core 2>/dev/null | grep -q 'install ok installed'; then
    pkgs+=(fonts-dejavu-core)
  fi
  if ((${#pkgs[@]} == 0)); then
    log "chromium: $("$chromium" --version 2>/dev/null || echo "$chromium")"
    return
  fi
  log "installing ${pkgs[*]} from Debian"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${pkgs[@]}"
  [[ -x $chromium ]] || die "$chromium is still missing after apt-get install"
  log "chromium: $("$chromium" --version 2>/dev/null || echo "$chromium")"
}

# 2. The browser tests' npm packages (playwright-core, axe-core): npm ci when
#    node_modules is missing or package-lock.json changed since the last one.
ensure_node_modules() {
  command -v node >/dev/null 2>&1 || die "node is not installed (Node.js 20+ is needed)"
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
  local stamp=$BROWSER_DIR/node_modules/.cairn-lock.sha256
  local want
  want=$(cat "$BROWSER_DIR/package.json" "$BROWSER_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    log "browser test packages are up to date"
    return
  fi
  log "npm ci in tests/browser"
  (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund)
  printf '%s\n' "$want" >"$stamp"
}

pg_reachable() {
  local url=$1
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 5
  elif command -v psql >/dev/null 2>&1; then
    psql "$url" -qtAX -c 'select 1' >/dev/null 2>&1
  else
    timeout 5 bash -c "exec 3<>/dev/tcp/$PG_HOST/$PG_PORT" 2>/dev/null
  fi
}

# Starts local clusters that are installed but not running (never one that runs).
start_local_postgres() {
  command -v pg_ctlcluster >/dev/null 2>&1 || return 0
  [[ -d /etc/postgresql ]] || return 0
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
    warn "not root and no sudo: not starting the local PostgreSQL"
    return 0
  fi
  local conf version started=0
  for conf in /etc/postgresql/*/main/postgresql.conf; do
    [[ -f $conf ]] || continue
    version=${conf#/etc/postgresql/}
    version=${version%%/*}
    if as_root pg_ctlcluster "$version" main status >/dev/null 2>&1; then
      continue # already running
    fi
    log "starting PostgreSQL cluster $version/main"
    if as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start; then
      started=1
    else
      warn "could not start PostgreSQL cluster $version/main"
    fi
  done
  ((started)) || return 0
  local _
  for _ in $(seq 1 30); do
    pg_reachable "$DEFAULT_DATABASE_URL" && return 0
    sleep 1
  done
}

# The default database is 'test'; create it when psql can and it is missing.
ensure_test_database() {
  command -v psql >/dev/null 2>&1 || return 0
  psql "$DEFAULT_DATABASE_URL" -qtAX -c 'select 1' >/dev/null 2>&1 && return 0
  local admin_url=${DEFAULT_DATABASE_URL%/*}/postgres
  if [[ -z $(psql "$admin_url" -qtAX -c "select 1 from pg_database where datname = 'test'" 2>/dev/null) ]]; then
    log "creating database 'test'"
    psql "$admin_url" -qtAX -c 'create database test' >/dev/null || warn "could not create database 'test'"
  fi
}

# 3. PostgreSQL for the storage tests.
ensure_postgres() {
  if [[ -n ${CAIRN_TEST_DATABASE_URL:-} ]]; then
    log "PostgreSQL: using CAIRN_TEST_DATABASE_URL from the environment"
    export CAIRN_TEST_DATABASE_URL
    return
  fi
  unset CAIRN_TEST_DATABASE_URL
  if ! pg_reachable "$DEFAULT_DATABASE_URL"; then
    start_local_postgres
  fi
  if pg_reachable "$DEFAULT_DATABASE_URL"; then
    ensure_test_database
    export CAIRN_TEST_DATABASE_URL=$DEFAULT_DATABASE_URL
    log "PostgreSQL: $CAIRN_TEST_DATABASE_URL"
  else
    die "PostgreSQL is not reachable at $PG_HOST:$PG_PORT; every storage and API test runs on it too (start it, or set CAIRN_TEST_DATABASE_URL)"
  fi
}

# 4. The Rust workspace. Formatting and clippy first (cheap, and they fail fast), then one
#    release build of every target: `cargo test` builds the `cairn` binary the browser and
#    interop tests use, so the workspace is compiled once for tests and binary.
run_cargo() {
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed (the Rust toolchain is needed)"
  log "cargo fmt --check"
  cargo fmt --all --check
  log "cargo clippy --workspace --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets --locked -- -D warnings
  if ! cargo machete --version >/dev/null 2>&1; then
    log "installing cargo-machete"
    cargo install --locked cargo-machete
  fi
  log "cargo machete (no unused dependencies, fuzz/ included)"
  cargo machete
  log "cargo test --release --workspace --locked"
  cargo test --release --workspace --locked
  [[ -x $REPO_ROOT/target/release/cairn ]] || die "cargo test did not build target/release/cairn"
}

# 4b. Tools the Rust tests call as independent checkers (exiftool for evidence metadata).
ensure_test_tools() {
  if [[ -x $REPO_ROOT/scripts/install-test-tools.sh ]]; then
    log "test tools: scripts/install-test-tools.sh"
    "$REPO_ROOT/scripts/install-test-tools.sh"
  fi
}

# 7. A short run of every cargo-fuzz target over its corpus (fuzz/ is outside the workspace).
run_fuzz_smoke() {
  local seconds=${CAIRN_FUZZ_SECONDS:-20} target name
  if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
  fi
  log "fuzz smoke: ${seconds}s per target"
  (
    cd "$REPO_ROOT/fuzz"
    for target in fuzz_targets/*.rs; do
      name=$(basename "$target" .rs)
      mkdir -p "corpus/$name"
      # The corpus is read, never grown, in the smoke run: new inputs go to a scratch directory.
      local scratch out
      scratch=$(mktemp -d)
      out=$scratch.log
      if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$name" "$scratch" "corpus/$name" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$out" 2>&1; then
        tail -n 60 "$out" >&2
        rm -rf "$scratch" "$out"
        die "fuzz target $name failed (the crashing input is in fuzz/artifacts/$name)"
      fi
      grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$out" | sed "s/^/    $name: /" || true
      rm -rf "$scratch" "$out"
    done
  )
}

# 2b. The independent peer verifiers (DCC JS stack, openbadgeslib, PyJWT, jwcrypto, the 1EdTech
#     OB 2.0 validator, openbadges-bakery), installed into tests/interop/peers (idempotent).
ensure_interop_peers() {
  command -v python3 >/dev/null 2>&1 || die "python3 is not installed (the interop tests need it)"
  log "interop peers: tests/interop/peers/install.sh"
  "$REPO_ROOT/tests/interop/peers/install.sh"
}

# 6. Interop tests: what Cairn signs, the peers accept; what the peers sign, Cairn verifies.
run_interop_tests() {
  local files=("$REPO_ROOT"/tests/interop/*.test.mjs)
  [[ -e ${files[0]} ]] || { log "no interop tests yet"; return 0; }
  log "interop tests"
  CAIRN_BIN=$REPO_ROOT/target/release/cairn \
    node --test --test-reporter=spec "${files[@]#"$REPO_ROOT"/}"
}

# 5. The browser tests.
run_browser_tests() {
  local files=("$BROWSER_DIR"/*.test.mjs)
  [[ -e ${files[0]} ]] || die "no browser tests found in tests/browser"
  [[ -x $REPO_ROOT/target/release/cairn ]] || die "target/release/cairn was not built"
  mkdir -p "$BROWSER_DIR/artifacts"
  log "browser tests (screenshots in tests/browser/artifacts/)"
  CAIRN_BIN=$REPO_ROOT/target/release/cairn \
    node --test --test-reporter=spec "${files[@]#"$REPO_ROOT"/}"
}

main() {
  local browser=1 interop=1 fuzz=0 arg
  for arg in "$@"; do
    case $arg in
      --no-browser) browser=0 ;;
      --no-interop) interop=0 ;;
      --fuzz) fuzz=1 ;;
      --no-fuzz) fuzz=0 ;;
      -h | --help)
        sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
        return 0
        ;;
      *) die "unknown option: $arg (--no-browser, --no-interop, --fuzz and --no-fuzz are accepted)" ;;
    esac
  done

  if ((browser)); then
    ensure_chromium
    ensure_node_modules
  else
    log "--no-browser: skipping Chromium, npm and the browser tests"
  fi
  if ((interop)); then
    ensure_interop_peers
  fi
  ensure_test_tools
  ensure_postgres
  run_cargo
  if ((browser)); then
    run_browser_tests
  fi
  if ((interop)); then
    run_interop_tests
  fi
  if ((fuzz)); then
    run_fuzz_smoke
  else
    log "fuzz corpora replayed by cargo test; --fuzz fuzzes each target too"
  fi
  log "all tests passed"
}

# Sourcing this file (for trying one step) defines the steps without running them.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
