//! `rempart pdq …`: PDQ hashes of image files and radius matching against a bank file.
//!
//! Output format (tab-separated, one line per file or per query; see docs/pdq.md):
//!
//! * `rempart pdq hash FILE…` → `HASH<TAB>QUALITY<TAB>FILE`
//! * `rempart pdq hash --dihedral FILE…` →
//!   `ORIG<TAB>ROT90<TAB>ROT180<TAB>ROT270<TAB>FLIPX<TAB>FLIPY<TAB>FLIPP<TAB>FLIPM<TAB>QUALITY<TAB>FILE`
//! * `rempart pdq match --bank FILE [--radius N] HASH…` →
//!   `HASH<TAB>COUNT<TAB>ID:DISTANCE,ID:DISTANCE…` (hits sorted by distance, then hash, then id;
//!   the third field is empty when there is no hit)
//!
//! A file that cannot be read or decoded is reported on stderr; the others are still
//! processed and the command then fails.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rempart_pdq::Hash256;
use rempart_pdq::bank::{self, file};
use rempart_pdq::decode::{Limits, decode_file_bytes};

/// `rempart pdq` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PdqCmd {
    /// Print the PDQ hash and quality (0-100) of each image file (PNG, JPEG, WebP, GIF).
    Hash {
        /// Image files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the 8 dihedral hashes (orig, rot90, rot180, rot270, flipx, flipy,
        /// flipp, flipm) instead of the single hash.
        #[arg(long)]
        dihedral: bool,
    },
    /// Print the entries of a bank within a Hamming radius of each hash.
    Match {
        /// Bank file: text (`HASH[<TAB>ID]` per line) or binary (`RPDQBNK1`).
        #[arg(long)]
        bank: PathBuf,
        /// Largest distance that counts as a match (inclusive).
        #[arg(long, default_value_t = bank::DEFAULT_RADIUS)]
        radius: u32,
        /// Hashes to look up (64 hex digits each).
        #[arg(required = true)]
        hashes: Vec<String>,
    },
}

/// Runs a `rempart pdq` subcommand, writing to stdout.
pub fn run(cmd: PdqCmd) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cmd {
        PdqCmd::Hash { files, dihedral } => hash_files(&files, dihedral, &mut out),
        PdqCmd::Match {
            bank,
            radius,
            hashes,
        } => match_hashes(&bank, radius, &hashes, &mut out),
    }
}

fn hash_files(
    files: &[PathBuf],
    dihedral: bool,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let mut failed = 0usize;
    for path in files {
        let decoded = std::fs::read(path)
            .with_context(|| format!("cannot read {}", path.display()))
            .and_then(|bytes| {
                decode_file_bytes(&bytes, &Limits::default())
                    .with_context(|| format!("cannot decode {}", path.display()))
            });
        let img = match decoded {
            Ok(img) => img,
            Err(e) => {
                eprintln!("{e:#}");
                failed += 1;
                continue;
            }
        };
        let mut line = String::new();
        if dihedral {
            let d = img.pdq_dihedral();
            for h in d.hashes {
                let _ = write!(line, "{h}\t");
            }
            let _ = write!(line, "{}", d.quality);
        } else {
            let r = img.pdq();
            let _ = write!(line, "{}\t{}", r.hash, r.quality);
        }
        writeln!(out, "{line}\t{}", path.display())?;
    }
    out.flush()?;
    if failed > 0 {
        bail!("{failed} of {} files could not be hashed", files.len());
    }
    Ok(())
}

fn match_hashes(
    bank_path: &Path,
    radius: u32,
    hashes: &[String],
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let queries = hashes
        .iter()
        .map(|h| Hash256::parse(h.trim()).with_context(|| format!("invalid hash {h:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bank = file::load(bank_path)
        .with_context(|| format!("cannot load bank {}", bank_path.display()))?;
    for q in queries {
        let hits = bank.query_radius(&q, radius);
        let list = hits
            .iter()
            .map(|m| format!("{}:{}", m.id, m.distance))
            .collect::<Vec<_>>()
            .join(",");
        writeln!(out, "{q}\t{}\t{list}", hits.len())?;
    }
    out.flush()?;
    Ok(())
}
