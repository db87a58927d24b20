//! Replays every committed fuzz corpus input (`fuzz/corpus/<target>/`) through the check its
//! cargo-fuzz target runs (`cairn_server::fuzzing`), so an input that once crashed, or that
//! covers a path the fuzzer found, is checked on every test run without a sanitizer build.

use cairn_server::fuzzing::TARGETS;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_input_passes_its_target_check() {
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, check) in TARGETS {
        let files = corpus(name);
        assert!(!files.is_empty(), "the corpus of {name} is empty");
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file reads");
            total += 1;
            if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
                failures.push(format!("{name}: {}", file.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {total} corpus inputs broke their target's rule:\n{}", failures.len(), failures.join("\n"));
    assert!(total > 100, "only {total} corpus inputs were found");
}

#[test]
fn every_fuzz_target_has_a_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    let mut binaries: Vec<String> = std::fs::read_dir(&dir)
        .expect("fuzz/fuzz_targets reads")
        .map(|entry| entry.expect("an entry").path())
        .filter_map(|path| path.file_stem().map(|stem| stem.to_string_lossy().into_owned()))
        .collect();
    binaries.sort();
    let mut checks: Vec<String> = TARGETS.iter().map(|(name, _)| (*name).to_owned()).collect();
    checks.sort();
    assert_eq!(binaries, checks, "each file in fuzz/fuzz_targets calls the check of the same name");
}
