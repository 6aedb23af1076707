//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA-1, 30-second
//! steps, 6 digits) — what every authenticator app speaks.

use hmac::{Hmac, KeyInit, Mac};

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    let mut buf: u64 = 0;
    let mut bits = 0;
    for &b in data {
        buf = (buf << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive, spaces and padding ignored).
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf: u64 = 0;
    let mut bits = 0;
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let c = c.to_ascii_uppercase() as u8;
        let v = ALPHABET.iter().position(|&a| a == c)? as u64;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// HOTP value for `counter`.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[off] & 0x7f) << 24)
        | (u32::from(h[off + 1]) << 16)
        | (u32::from(h[off + 2]) << 8)
        | u32::from(h[off + 3]);
    bin % 1_000_000
}

/// The 30-second step at `now_ms`.
pub fn step_at(now_ms: i64) -> i64 {
    now_ms.div_euclid(30_000)
}

/// Checks `code` against the steps around `now_ms` (one step of clock drift either
/// way) and returns the step it matched; the caller refuses a step already used.
pub fn verify(secret_b32: &str, code: &str, now_ms: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let want: u32 = code.parse().ok()?;
    let secret = base32_decode(secret_b32)?;
    let now = step_at(now_ms);
    [now, now - 1, now + 1]
        .into_iter()
        .find(|&s| s >= 0 && hotp(&secret, s as u64) == want)
}

/// The `otpauth://` URI authenticator apps import.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        secret_b32,
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8 digits there; the
        // last 6 digits are what a 6-digit generator shows.
        let secret = b"12345678901234567890";
        assert_eq!(hotp(secret, 59 / 30), 287_082);
        assert_eq!(hotp(secret, 1_111_111_109 / 30), 81_804);
        assert_eq!(hotp(secret, 1_234_567_890 / 30), 5_924);
        assert_eq!(hotp(secret, 2_000_000_000 / 30), 279_037);
    }

    #[test]
    fn base32_round_trip_and_verify_window() {
        let s = base32_encode(b"12345678901234567890");
        assert_eq!(s, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            base32_decode(&s.to_lowercase()).unwrap(),
            b"12345678901234567890"
        );
        assert!(base32_decode("0189").is_none());
        let now = 1_234_567_890_000;
        let code = format!(
            "{:06}",
            hotp(b"12345678901234567890", (now / 30_000) as u64)
        );
        assert_eq!(verify(&s, &code, now), Some(now / 30_000));
        assert_eq!(
            verify(&s, &code, now + 30_000),
            Some(now / 30_000),
            "one step late is accepted"
        );
        assert_eq!(
            verify(&s, &code, now + 90_000),
            None,
            "three steps late is refused"
        );
        assert_eq!(verify(&s, "12345a", now), None);
    }
}
