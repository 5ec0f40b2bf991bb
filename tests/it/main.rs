//! Integration tests: real HTTP on loopback against wiremock, asserting the exact wire shape.

mod adaptive;
mod assignments;
mod batch;
mod business;
mod client;
mod common;
mod contract;
mod desired_state;
mod emulator;
mod errors;
mod examples;
mod faults;
mod fidelity;
mod hostile;
mod keeper;
mod layout;
mod obo;
mod pagination;
mod preflight;
mod provision;
mod quota;
mod redaction;
mod replicas;
mod store;
mod store_conformance;
mod store_file;
mod system_users;
mod tokens;
mod usage;
#[cfg(feature = "vault")]
mod vault;
