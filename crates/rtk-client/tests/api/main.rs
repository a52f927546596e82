//! The REST SDK against an in-process rtk (every endpoint, success and error paths, paging
//! across pages), the participant client through a proxy that drops its connection, and the
//! SDK against small local servers (retries, unknown fields, raw responses).
//! One test binary, many modules.

mod endpoints;
mod errors;
mod harness;
mod livestreams;
mod mock;
mod pagination;
mod participant;
mod recordings;
mod retries;
mod webhooks;
