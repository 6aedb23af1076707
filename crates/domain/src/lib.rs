//! Rempart's domain: the helpline's types and rules, with no IO.
//!
//! Nothing in this crate opens a file, a socket or a database; it is pure data and
//! functions so every rule can be tested on its own. Wire formats (JSON DTOs) live in
//! the web crate, SQL in the storage crate.

pub mod labelled;

pub mod audit;
pub mod calendar;
pub mod case;
pub mod chat;
pub mod contact;
pub mod directory;
pub mod document;
pub mod evidence;
pub mod followup;
pub mod ids;
pub mod notice;
pub mod notice_content;
pub mod playbook;
pub mod policy;
pub mod referral;
pub mod risk;
pub mod taxonomy;
pub mod text;
pub mod values;
