//! Shared helpers for the integration tests: locating the third-party test data (never
//! copied into the repository) and reading its CSV files.
#![allow(dead_code, clippy::panic)]

use std::path::{Path, PathBuf};

/// The `shared/testdata/pdq` folder: `$REMPART_PDQ_TESTDATA`, else found by walking up
/// from this crate to a directory that has `shared/testdata/pdq` (a sibling `shared` of
/// the checkout). `None` (after a loud message) when absent, unless
/// `REMPART_REQUIRE_SHARED=1`, in which case absence fails the test.
pub fn testdata() -> Option<PathBuf> {
    let found = match std::env::var_os("REMPART_PDQ_TESTDATA") {
        Some(dir) => Some(PathBuf::from(dir)).filter(|d| d.join("expected").is_dir()),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared").join("testdata").join("pdq"))
            .find(|d| d.join("expected").is_dir()),
    };
    if found.is_none() {
        let msg = "PDQ TEST DATA ABSENT: set REMPART_PDQ_TESTDATA or provide ../shared/testdata/pdq \
                   next to the checkout; this test checked NOTHING";
        if std::env::var("REMPART_REQUIRE_SHARED").as_deref() == Ok("1") {
            panic!("{msg} (REMPART_REQUIRE_SHARED=1)");
        }
        eprintln!("\n{}\n{msg}\n{}\n", "!".repeat(78), "!".repeat(78));
    }
    found
}

/// A CSV file as header names and rows (no quoting in these files; `#` lines skipped).
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    pub fn read(path: &Path) -> Csv {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        let header = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect();
        let rows = lines
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect();
        Csv { header, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name} missing"))
    }
}

/// Lines of a one-hash-per-line file.
pub fn hash_lines(path: &Path) -> Vec<rempart_pdq::Hash256> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| rempart_pdq::Hash256::parse(l.trim()).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}
