//! The anonymous chat widget: its JSON API (a bearer chat token, never in a URL), the
//! loader script, the chat frame and the demo page.

pub mod api;
pub mod pages;
pub mod ws;
