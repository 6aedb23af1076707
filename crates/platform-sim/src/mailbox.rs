//! A local mailbox for the demo: a small SMTP server (RFC 5321: `EHLO`/`HELO`, `MAIL`,
//! `RCPT`, `DATA` with dot-unstuffing, `RSET`, `NOOP`, `QUIT`; no TLS, no relaying) that
//! takes every mail the helpline sends — notices to platforms' e-mail channels, referrals —
//! and writes each one, exactly as it arrived, to `NNNN.eml` in its folder, so a newcomer
//! opens what left. Tests use a real SMTP server (aiosmtpd); this one only stands in for
//! the world in the demo.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The largest mail taken, bytes.
const MAX_MAIL: usize = 30 * 1024 * 1024;
/// The longest command or text line, bytes (RFC 5321 says 1000 with the CRLF).
const MAX_LINE: usize = 1000;
/// A client silent this long is disconnected.
const IDLE: Duration = Duration::from_secs(60);

/// A running mailbox; it stops when dropped.
pub struct MailboxHandle {
    port: u16,
    dir: PathBuf,
    /// Mails taken since this mailbox started.
    count: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl MailboxHandle {
    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder the mails are written to.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// How many mails it took since it started.
    pub fn received(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for MailboxHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a mailbox on `listener`, writing to `dir` (created; mails already there are
/// counted, so numbers go on across restarts).
pub fn spawn_mailbox(listener: TcpListener, dir: PathBuf) -> std::io::Result<MailboxHandle> {
    std::fs::create_dir_all(&dir)?;
    let port = listener.local_addr()?.port();
    // numbers go on after the highest already there; a file is never overwritten
    let highest = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let p = e.path();
            if p.extension()? != "eml" {
                return None;
            }
            p.file_stem()?.to_str()?.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0);
    let last = Arc::new(AtomicU64::new(highest));
    let count = Arc::new(AtomicU64::new(0));
    let (d, l, c) = (dir.clone(), last, count.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (d, l, c) = (d.clone(), l.clone(), c.clone());
            tokio::spawn(async move {
                if let Err(e) = session(stream, &d, &l, &c).await {
                    tracing::debug!(error = %e, "mailbox session ended");
                }
            });
        }
    });
    Ok(MailboxHandle {
        port,
        dir,
        count,
        task,
    })
}

/// Reads one CRLF-terminated line (without it), within the limit and the idle time.
async fn line(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let n = tokio::time::timeout(
        IDLE,
        (&mut *r).take(max as u64 + 2).read_until(b'\n', &mut buf),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
    if n == 0 {
        return Ok(None);
    }
    if !buf.ends_with(b"\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    buf.pop();
    if buf.ends_with(b"\r") {
        buf.pop();
    }
    Ok(Some(buf))
}

async fn session(
    stream: TcpStream,
    dir: &std::path::Path,
    last: &AtomicU64,
    count: &AtomicU64,
) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 rempart-demo-mailbox ESMTP\r\n").await?;
    let mut from = false;
    let mut rcpt = 0usize;
    while let Some(cmd) = line(&mut r, MAX_LINE).await? {
        let text = String::from_utf8_lossy(&cmd).to_string();
        let verb = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-rempart-demo-mailbox\r\n250-8BITMIME\r\n250 SIZE 31457280\r\n",
            "HELO" => b"250 rempart-demo-mailbox\r\n",
            "MAIL" => {
                from = true;
                rcpt = 0;
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" if from => {
                rcpt += 1;
                b"250 2.1.5 OK\r\n"
            }
            "RCPT" => b"503 5.5.1 MAIL first\r\n",
            "DATA" if rcpt > 0 => {
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut mail = Vec::new();
                let mut too_big = false;
                loop {
                    let l = match line(&mut r, MAX_LINE).await {
                        Ok(Some(l)) => l,
                        Ok(None) => return Ok(()),
                        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                            w.write_all(b"500 5.5.2 Line too long\r\n").await?;
                            return Ok(());
                        }
                        Err(e) => return Err(e),
                    };
                    if l == b"." {
                        break;
                    }
                    // dot-unstuffing
                    let l = l.strip_prefix(b".").unwrap_or(&l);
                    if too_big || mail.len() + l.len() + 2 > MAX_MAIL {
                        // read on to the end of the data, then refuse
                        too_big = true;
                        mail.clear();
                        continue;
                    }
                    mail.extend_from_slice(l);
                    mail.extend_from_slice(b"\r\n");
                }
                from = false;
                rcpt = 0;
                if too_big {
                    w.write_all(b"552 5.3.4 Too big\r\n").await?;
                    continue;
                }
                let n = last.fetch_add(1, Ordering::SeqCst) + 1;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(dir.join(format!("{n:04}.eml")))?;
                std::io::Write::write_all(&mut f, &mail)?;
                count.fetch_add(1, Ordering::SeqCst);
                b"250 2.0.0 Queued\r\n"
            }
            "DATA" => b"503 5.5.1 RCPT first\r\n",
            "RSET" => {
                from = false;
                rcpt = 0;
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Not implemented\r\n",
        };
        w.write_all(reply).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn expect(s: &mut TcpStream, code: &str) {
        let mut buf = vec![0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        let got = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(got.starts_with(code), "wanted {code}, got {got:?}");
    }

    #[tokio::test]
    async fn a_mail_is_written_as_it_arrived_dots_unstuffed() {
        let dir = std::env::temp_dir().join(format!("rempart-mailbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mb = spawn_mailbox(listener, dir.clone()).unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", mb.port())).await.unwrap();
        expect(&mut s, "220").await;
        for (cmd, code) in [
            ("EHLO test\r\n", "250"),
            ("RCPT TO:<a@b.example>\r\n", "503"),
            ("MAIL FROM:<h@rempart.example>\r\n", "250"),
            ("RCPT TO:<a@b.example>\r\n", "250"),
            ("DATA\r\n", "354"),
            ("Subject: x\r\n\r\n..line with a dot\r\nend\r\n.\r\n", "250"),
            ("QUIT\r\n", "221"),
        ] {
            s.write_all(cmd.as_bytes()).await.unwrap();
            expect(&mut s, code).await;
        }
        assert_eq!(mb.received(), 1);
        let mail = std::fs::read(dir.join("0001.eml")).unwrap();
        assert_eq!(mail, b"Subject: x\r\n\r\n.line with a dot\r\nend\r\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_line_too_long_ends_the_session() {
        let dir = std::env::temp_dir().join(format!("rempart-mailbox-long-{}", std::process::id()));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mb = spawn_mailbox(listener, dir.clone()).unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", mb.port())).await.unwrap();
        expect(&mut s, "220").await;
        s.write_all(&vec![b'a'; 5000]).await.unwrap();
        s.write_all(b"\r\n").await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(s.read(&mut buf).await.unwrap_or(0), 0, "closed");
        assert_eq!(mb.received(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
