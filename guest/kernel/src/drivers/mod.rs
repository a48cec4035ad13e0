//! Device drivers: sv39's host I/O channel, with the SBI console as the fallback.

pub mod hostio;
pub mod stdio;
