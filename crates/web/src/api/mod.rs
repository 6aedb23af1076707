//! The JSON API under `/api/v1`: DTOs live here, not in the domain.

pub mod auth;
pub mod callbacks;
pub mod cases;
pub mod chat;
pub mod complaint;
pub mod dto;
pub mod evidence;
pub mod followup;
pub mod misc;
pub mod notices;
pub mod path;
pub mod referrals;
pub mod staff;
