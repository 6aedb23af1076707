//! The clean copy of a video: the same file with its metadata boxes — `udta` (where phones
//! put the place, `©xyz`), `meta` (Apple's keys, with the location), `uuid` (XMP) — turned
//! into `free` boxes of the same size and zeroed, so no offset moves and players skip them.

use crate::Refusal;

const METADATA: &[&[u8; 4]] = &[b"udta", b"meta", b"uuid"];
/// Boxes whose children are boxes, walked to find metadata inside.
const CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"moof", b"traf",
];

/// A copy of `bytes` with every metadata box neutralised; `Damaged` if the boxes do not tile
/// the file.
pub fn clean(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut out = bytes.to_vec();
    walk(&mut out, 0, bytes.len(), 0)?;
    Ok(out)
}

fn walk(buf: &mut [u8], mut at: usize, end: usize, depth: u32) -> Result<(), Refusal> {
    if depth > 16 {
        return Err(Refusal::Damaged);
    }
    while at < end {
        if end - at < 8 {
            return Err(Refusal::Damaged);
        }
        let size32 = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        let (size, header) = match size32 {
            0 => (end - at, 8),
            1 => {
                if end - at < 16 {
                    return Err(Refusal::Damaged);
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[at + 8..at + 16]);
                let s = usize::try_from(u64::from_be_bytes(b)).map_err(|_| Refusal::Damaged)?;
                (s, 16)
            }
            s => (s as usize, 8),
        };
        if size < header || size > end - at {
            return Err(Refusal::Damaged);
        }
        let mut kind = [0u8; 4];
        kind.copy_from_slice(&buf[at + 4..at + 8]);
        if METADATA.contains(&&kind) {
            buf[at + 4..at + 8].copy_from_slice(b"free");
            buf[at + header..at + size].fill(0);
        } else if CONTAINERS.contains(&&kind) {
            walk(buf, at + header, at + size, depth + 1)?;
        }
        at += size;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn metadata_boxes_become_free_space_of_the_same_size() {
        let xyz = boxed(b"\xa9xyz", b"+48.8584+002.2945/");
        let udta = boxed(b"udta", &xyz);
        let trak = boxed(
            b"trak",
            &[boxed(b"tkhd", &[0; 12]), boxed(b"meta", b"location")].concat(),
        );
        let moov = boxed(b"moov", &[boxed(b"mvhd", &[1; 20]), trak, udta].concat());
        let file = [
            boxed(b"ftyp", b"mp42\0\0\0\0"),
            moov,
            boxed(b"mdat", b"frames"),
        ]
        .concat();
        let out = clean(&file).expect("clean");
        assert_eq!(out.len(), file.len());
        assert!(!out.windows(8).any(|w| w == b"+48.8584"));
        assert!(!out.windows(4).any(|w| w == b"udta" || w == b"meta"));
        assert!(out.windows(6).any(|w| w == b"frames"));
        assert_eq!(clean(&out).expect("again"), out);
    }

    #[test]
    fn boxes_that_overrun_the_file_are_damage() {
        let mut bad = boxed(b"ftyp", b"mp42\0\0\0\0");
        bad.extend_from_slice(&[0, 0, 1, 0, b'm', b'o', b'o', b'v']);
        assert_eq!(clean(&bad), Err(Refusal::Damaged));
    }
}
