//! Bank files.
//!
//! **Text** (`.txt`, `.tsv`): UTF-8, one entry per line, `HASH` or `HASH<TAB>ID`, where
//! HASH is 64 hex digits and ID an unsigned 64-bit decimal integer. A line without an ID
//! gets its 1-based line number as id (so upstream one-hash-per-line lists load as is).
//! Blank lines and lines starting with `#` are skipped.
//!
//! **Binary** (for large banks; loads 10 million hashes in seconds): the 8 bytes
//! `RPDQBNK1`, the entry count as u64 little-endian, then per entry the hash as 32
//! big-endian bytes (the hex form, decoded) and the id as u64 little-endian.
//! [`load`] recognises the format by the magic bytes.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::{BankError, HashBank, MAX_ENTRIES};
use crate::Hash256;

/// Magic bytes of the binary format.
pub const MAGIC: &[u8; 8] = b"RPDQBNK1";

/// Errors reading or writing bank files.
#[derive(Debug, thiserror::Error)]
pub enum BankFileError {
    /// I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A malformed text line.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A binary file shorter than its header says.
    #[error("binary bank file truncated")]
    Truncated,
    /// Too many entries.
    #[error(transparent)]
    Bank(#[from] BankError),
}

/// Parses text-format entries.
pub fn parse_text(reader: impl BufRead) -> Result<Vec<(Hash256, u64)>, BankFileError> {
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        let line_no = n + 1;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let bad = |message: String| BankFileError::Line {
            line: line_no,
            message,
        };
        let (hash, id) = match text.split_once('\t') {
            Some((h, id)) => {
                let id = id
                    .trim()
                    .parse::<u64>()
                    .map_err(|e| bad(format!("id: {e}")))?;
                (h.trim(), id)
            }
            None => (text, line_no as u64),
        };
        let hash = Hash256::parse(hash).map_err(|e| bad(e.to_string()))?;
        out.push((hash, id));
    }
    Ok(out)
}

/// Writes entries in the text format (`HASH<TAB>ID`).
pub fn write_text(mut w: impl Write, entries: &[(Hash256, u64)]) -> std::io::Result<()> {
    for (h, id) in entries {
        writeln!(w, "{h}\t{id}")?;
    }
    w.flush()
}

/// Writes entries in the binary format.
pub fn write_binary(w: impl Write, entries: &[(Hash256, u64)]) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, w);
    w.write_all(MAGIC)?;
    w.write_all(&(entries.len() as u64).to_le_bytes())?;
    for (h, id) in entries {
        w.write_all(&h.to_be_bytes())?;
        w.write_all(&id.to_le_bytes())?;
    }
    w.flush()
}

/// Reads binary-format entries (after the magic bytes have been consumed).
fn read_binary_body(mut r: impl Read) -> Result<Vec<(Hash256, u64)>, BankFileError> {
    let mut count = [0u8; 8];
    r.read_exact(&mut count)
        .map_err(|_| BankFileError::Truncated)?;
    let count = u64::from_le_bytes(count);
    if count > MAX_ENTRIES as u64 {
        return Err(BankError::Full.into());
    }
    // Don't trust the header for the allocation: grow as records actually arrive.
    let mut out = Vec::with_capacity((count as usize).min(1 << 20));
    let mut record = [0u8; 40];
    let mut chunk = vec![0u8; 40 * 4096];
    let mut left = count as usize;
    while left > 0 {
        let take = left.min(4096);
        let buf = &mut chunk[..take * 40];
        r.read_exact(buf).map_err(|_| BankFileError::Truncated)?;
        for rec in buf.chunks_exact(40) {
            record.copy_from_slice(rec);
            let mut h = [0u8; 32];
            h.copy_from_slice(&record[..32]);
            let mut id = [0u8; 8];
            id.copy_from_slice(&record[32..]);
            out.push((Hash256::from_be_bytes(h), u64::from_le_bytes(id)));
        }
        left -= take;
    }
    Ok(out)
}

/// Reads entries from either format.
pub fn read_entries(reader: impl Read) -> Result<Vec<(Hash256, u64)>, BankFileError> {
    let mut r = BufReader::with_capacity(1 << 20, reader);
    let head = r.fill_buf()?;
    if head.starts_with(MAGIC) {
        r.consume(MAGIC.len());
        read_binary_body(r)
    } else {
        parse_text(r)
    }
}

/// Loads a bank file (either format).
pub fn load(path: &Path) -> Result<HashBank, BankFileError> {
    let entries = read_entries(std::fs::File::open(path)?)?;
    Ok(HashBank::from_entries(entries)?)
}

/// Saves a bank in the binary format.
pub fn save_binary(path: &Path, bank: &HashBank) -> std::io::Result<()> {
    write_binary(std::fs::File::create(path)?, &bank.entries())
}

/// Saves a bank in the text format.
pub fn save_text(path: &Path, bank: &HashBank) -> std::io::Result<()> {
    write_text(
        BufWriter::new(std::fs::File::create(path)?),
        &bank.entries(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u64) -> Hash256 {
        Hash256::from_limbs([n, !n, n.rotate_left(7), 42])
    }

    #[test]
    fn text_roundtrip_and_line_number_ids() {
        let text = format!("# comment\n{}\n\n{}\t77\n", h(1), h(2));
        let entries = parse_text(text.as_bytes()).unwrap();
        assert_eq!(entries, vec![(h(1), 2), (h(2), 77)]);
        let mut out = Vec::new();
        write_text(&mut out, &entries).unwrap();
        assert_eq!(read_entries(out.as_slice()).unwrap(), entries);
    }

    #[test]
    fn text_errors_name_the_line() {
        let text = format!("{}\nnot-a-hash\n", h(1));
        let err = parse_text(text.as_bytes()).unwrap_err();
        assert!(matches!(err, BankFileError::Line { line: 2, .. }), "{err}");
        let text = format!("{}\t-3\n", h(1));
        assert!(matches!(
            parse_text(text.as_bytes()),
            Err(BankFileError::Line { line: 1, .. })
        ));
    }

    #[test]
    fn binary_roundtrip_and_truncation() {
        let entries: Vec<_> = (0..5000).map(|n| (h(n), n * 3)).collect();
        let mut out = Vec::new();
        write_binary(&mut out, &entries).unwrap();
        assert_eq!(out.len(), 16 + 40 * 5000);
        assert_eq!(read_entries(out.as_slice()).unwrap(), entries);
        out.truncate(out.len() - 1);
        assert!(matches!(
            read_entries(out.as_slice()),
            Err(BankFileError::Truncated)
        ));
        // A header claiming billions of entries fails without allocating them.
        let mut lie = MAGIC.to_vec();
        lie.extend_from_slice(&(MAX_ENTRIES as u64).to_le_bytes());
        assert!(matches!(
            read_entries(lie.as_slice()),
            Err(BankFileError::Truncated)
        ));
        let mut lie = MAGIC.to_vec();
        lie.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            read_entries(lie.as_slice()),
            Err(BankFileError::Bank(BankError::Full))
        ));
    }
}
