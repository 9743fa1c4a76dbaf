//! `cypherlink`: the command-line entry point. It parses arguments and hands each subcommand to
//! the crates that do the work; the subcommands live in `cli/`, one file each.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// CypherLink: interbank payments across ledgers that do not trust each other.
///
/// A payment is a chain of hash-locked escrows, one per ledger, all released by one preimage or
/// all refunded after their expiries.
#[derive(Debug, Parser)]
#[command(name = "cypherlink", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode and encode ILPv4 packets (Prepare, Fulfill, Reject).
    #[command(subcommand)]
    Packet(cli::packet::PacketCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Packet(command) => cli::packet::run(command),
    };
    cli::exit_code(result)
}
