//! Integration tests: a real server over real HTTP, on SQLite and on PostgreSQL.

pub mod harness;

mod auth;
mod foundation;
mod store_conformance;
mod vectors;
