//! rtk-client: the Rust SDK for the RealtimeKit REST API — the same code talks to Cloudflare
//! or to rtk — and a participant client for rtk's gateway.

pub mod participant;
