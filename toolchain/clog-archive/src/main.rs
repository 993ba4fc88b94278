//! clog-archive: a continuous, checksum-verified copy of a SpacetimeDB 1.2 commitlog, for
//! point-in-time recovery. Everything about the format goes through `spacetimedb-commitlog`
//! 1.2.0 (the server's own reader and writer); this tool only decides what to copy and when.
//!
//!   clog-archive archive --clog DIR --to ARCHIVE [--follow] [--interval-ms N]
//!   clog-archive archive --replicas DIR --to BASE [--follow] [--interval-ms N]   (BASE/<replica id>)
//!   clog-archive cut --archive ARCHIVE --to-offset N --out DIR [--base CLOG]
//!   clog-archive verify --archive ARCHIVE [--to-offset N]
//!   clog-archive info --clog DIR
//!
//! Exit codes: 0 ok, 1 failed (the reason on stderr), 2 wrong command line.
mod archive;
mod args;
mod chunks;
mod cut;
mod index;
mod info;
mod verify;
#[cfg(test)]
mod tests;

use std::process::ExitCode;

const USAGE: &str = "usage:
  clog-archive archive (--clog DIR | --replicas DIR) --to ARCHIVE [--follow] [--interval-ms N]
  clog-archive cut --archive ARCHIVE --to-offset N --out DIR [--base CLOG]
  clog-archive verify --archive ARCHIVE [--to-offset N]
  clog-archive info --clog DIR";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let parsed = match args::Args::parse(rest) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("clog-archive: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        "archive" => archive::run(parsed).await,
        "cut" => cut::run(parsed).await,
        "verify" => verify::run(parsed).await,
        "info" => info::run(parsed),
        "--help" | "-h" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("clog-archive: unknown command '{other}'\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(args::Failure::Usage(e)) => {
            eprintln!("clog-archive: {e}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(args::Failure::Failed(e)) => {
            eprintln!("clog-archive: {e}");
            ExitCode::from(1)
        }
    }
}
