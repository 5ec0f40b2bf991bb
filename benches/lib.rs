//! Nothing here: the benchmarks are the `[[bench]]` targets of this package (see its
//! `Cargo.toml` and the crate README's Performance section).
