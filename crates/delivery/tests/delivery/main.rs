//! Deliveries against the real platform simulators and small local servers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod callbacks;
mod common;
mod coop;
mod endpoints;
mod http_json;
mod tls;
