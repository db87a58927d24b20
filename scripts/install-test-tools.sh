#!/usr/bin/env bash
# Installs the command-line tools that Cairn's tests run as independent checkers, from Debian,
# only when they are missing (safe to run again and again).
#
#   ./scripts/install-test-tools.sh          install what is missing
#   ./scripts/install-test-tools.sh --check  only report what is missing (exit 1 if anything is)
#
# Tools (command → Debian package → the tests that need it):
#   exiftool → libimage-exiftool-perl → crates/cairn-core/tests/evidence_metadata.rs
#              (reads every metadata field of the evidence files before and after stripping)
#   qpdf     → qpdf                   → the same test (checks that a cleaned PDF is still sound)
#   djpeg    → libjpeg-turbo-progs    → the same test (decodes a cleaned JPEG)
#   wrk      → wrk                    → scripts/bench-http.mjs (the HTTP figures in BENCHMARKS.md)
#
# To add a tool, add a "command:package" line to TOOLS.
set -euo pipefail

TOOLS=(
  exiftool:libimage-exiftool-perl
  qpdf:qpdf
  djpeg:libjpeg-turbo-progs
  wrk:wrk
)

log() { printf '==> %s\n' "$*"; }
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

# The Debian packages whose command is not on PATH.
missing_packages() {
  local entry
  for entry in "${TOOLS[@]}"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || printf '%s\n' "${entry#*:}"
  done
}

main() {
  local check_only=false
  case ${1:-} in
    --check) check_only=true ;;
    '') ;;
    *) die "unknown argument: $1 (use --check, or nothing)" ;;
  esac

  local pkgs
  mapfile -t pkgs < <(missing_packages)
  if ((${#pkgs[@]} == 0)); then
    log "test tools present: ${TOOLS[*]%%:*}"
    return
  fi
  if $check_only; then
    die "missing test tools; run scripts/install-test-tools.sh to install: ${pkgs[*]}"
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages by hand: ${pkgs[*]}"

  log "installing ${pkgs[*]} from Debian"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${pkgs[@]}"

  mapfile -t pkgs < <(missing_packages)
  ((${#pkgs[@]} == 0)) || die "still missing after apt-get install: ${pkgs[*]}"
  log "test tools present: ${TOOLS[*]%%:*}"
}

main "$@"
