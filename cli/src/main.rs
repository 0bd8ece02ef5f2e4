//! `streamhouse`: the command-line tool over the `streamhouse` library crate.
//!
//! `args` defines the command line, `commands` runs each command, `input` turns CSV / JSON
//! lines / Parquet into Arrow batches of a table's types, `output` renders batches and
//! listings as tables, CSV, JSON lines or Parquet.

mod args;
mod commands;
mod error;
mod input;
mod output;
mod progress;
mod temporal;

use clap::Parser;

fn main() {
    install_panic_hook();
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(commands::run(cli)) {
        if e.is_broken_pipe() {
            return;
        }
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

/// A panic is a bug, never the user's fault: report it as one line, without a backtrace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.payload_as_str().unwrap_or("unknown panic");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error: {msg}{at} (this is a bug in streamhouse; please report it)"
        );
        std::process::exit(1);
    }));
}
