//! Serve the Graph emulator's demo world on 127.0.0.1 until interrupted, and print the
//! `META_*` variables that point the other examples (or any Graph client) at it.
//!
//! ```text
//! cargo run --example graph_emulator
//! # in another shell, paste the printed exports, then:
//! cargo run --example quickstart
//! ```

mod common;

use clap::Parser;
use meta_business::testing::GraphEmulator;

#[derive(Parser)]
#[command(
    about = "Serve the Graph emulator's demo business on 127.0.0.1 until Ctrl-C, and print the META_* exports that point the other examples at it",
    after_help = common::vars_help(
        "Environment: reads no variable. It prints these, for the other examples:",
        &common::target_vars_except(&["META_API_VERSION"]),
    )
)]
struct Args {}

#[tokio::main]
async fn main() {
    // `--help` is answered here, before the server starts.
    let Args {} = Args::parse();
    let (emulator, demo) = GraphEmulator::demo().await;
    println!("export META_GRAPH_URL={}", emulator.uri());
    println!("export META_ACCESS_TOKEN={}", demo.admin_token);
    println!("export META_APP_SECRET={}", demo.app_secret);
    println!("export META_APP_ID={}", demo.app_id);
    println!("export META_BUSINESS_ID={}", demo.business_id);
    println!("export META_ACCESS_TIER=limited");
    eprintln!("# demo Graph emulator running; Ctrl-C to stop");
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("could not wait for Ctrl-C: {err}");
    }
}
