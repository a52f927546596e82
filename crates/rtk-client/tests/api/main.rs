//! The REST SDK against an in-process rtk (every endpoint, success and error paths, paging
//! across pages) and against small local servers (retries, unknown fields, raw responses).
//! One test binary, many modules.

mod endpoints;
mod errors;
mod harness;
mod mock;
mod pagination;
mod retries;
