//! SMTP sending for e-mail notices.
//!
//! A notice mail is checked and rendered once ([`render`]) to the exact RFC 5322 bytes that
//! will leave; the caller shows and stores them, then [`Mailer::send_rendered`] sends those
//! bytes unchanged, over STARTTLS or implicit TLS (rustls with ring) as [`TlsMode`] says. A
//! failure is a [`MailError`]: [`ErrorClass::Transient`] (try again later) or
//! [`ErrorClass::Permanent`], with a stable [`Reason`] code and the [`Stage`] that failed; no
//! error and no `Debug` output carries message text, names, addresses or passwords.
//! [`read`] reads stored bytes back for people to check (headers decoded, the text part and
//! the attachments decoded), and [`Rendered::parse`] rebuilds the envelope from them.

mod config;
mod error;
mod message;
mod read;
mod send;

pub use config::{Password, SmtpConfig, TlsMode};
pub use error::{ErrorClass, MailError, Reason, Stage};
pub use lettre::Address;
pub use lettre::message::Mailbox;
pub use message::{Attachment, OutgoingMail, Rendered, render};
pub use read::{ReadMail, decode_words, read};
pub use send::{Mailer, Sent};
