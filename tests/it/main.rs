//! Integration tests: real HTTP on loopback against wiremock, asserting the exact wire shape.

mod assignments;
mod business;
mod client;
mod common;
mod emulator;
mod errors;
mod pagination;
mod quota;
mod redaction;
mod system_users;
mod tokens;
