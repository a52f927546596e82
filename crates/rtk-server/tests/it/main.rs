//! Integration tests: a real server over real HTTP, on SQLite and on PostgreSQL.

pub mod harness;
pub mod ws;

mod analytics;
mod auth;
mod bounds;
mod clock;
mod dashboard;
mod fixtures;
mod foundation;
mod gateway;
mod hot;
mod limits;
mod livestreams;
mod nodes;
mod openapi;
mod peer_pages;
mod property;
mod races;
mod recordings;
mod secrets;
mod sessions;
mod store_conformance;
mod transcripts;
mod vectors;
mod webhooks;
mod wire;
