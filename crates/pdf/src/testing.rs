//! For tests: a PDF's text as `pdftotext` (Debian's poppler-utils) reads it.

use std::process::{Command, Stdio};

/// Whether `pdftotext` can be run. Without it a test says so loudly and stops — unless
/// REMPART_REQUIRE_PDFTOTEXT is set (CI), where it fails.
pub fn pdftotext_available() -> bool {
    let ok = Command::new("pdftotext")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        assert!(
            std::env::var_os("REMPART_REQUIRE_PDFTOTEXT").is_none(),
            "REMPART_REQUIRE_PDFTOTEXT is set but pdftotext is missing (apt-get install poppler-utils)"
        );
        eprintln!(
            "\n*** SKIPPED: pdftotext is missing (apt-get install poppler-utils); CI sets REMPART_REQUIRE_PDFTOTEXT=1 ***\n"
        );
    }
    ok
}

/// The text of `pdf`, in reading order (UTF-8).
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pdftotext runs");
    let mut stdin = child.stdin.take().expect("a pipe");
    let bytes = pdf.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &bytes));
    let out = child.wait_with_output().expect("pdftotext ends");
    writer.join().expect("the writer").expect("the PDF written");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).expect("UTF-8 text")
}
