//! `cypherlink`: the command-line entry point. It parses arguments and hands each subcommand to
//! the crates that do the work; the subcommands live in `cli/`, one file each.

mod cli;

/// Every process the CLI starts (ledgers, connector, node) allocates per request and per
/// event; mimalloc spends about half of what glibc's malloc does on that (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// CypherLink: interbank payments across ledgers that do not trust each other.
///
/// A payment is a chain of hash-locked escrows, one per ledger, all released by one preimage or
/// all refunded after their expiries.
#[derive(Debug, Parser)]
#[command(
    name = "cypherlink",
    version,
    propagate_version = true,
    after_help = "Environment:\n  RUST_LOG              log filter (e.g. info, connector=debug); logs go to stderr\n  TOKIO_WORKER_THREADS  async worker threads (default: one per core)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whitepaper's scenario on this machine: two CBDC ledgers, a clearing bank's
    /// connector and two banks, one payment of 2000.00 DC/EP paid with 1001.00 DE.
    ///
    /// Example: cypherlink demo            (or: cypherlink demo --fail receiver-offline)
    Demo(cli::demo::DemoArgs),
    /// Run a clearing bank's connector between ledgers (recovers in-flight payments on start).
    ///
    /// Example: cypherlink connector --config fixtures/connector.toml
    Connector(cli::connector::ConnectorArgs),
    /// Decode and encode ILPv4 packets (Prepare, Fulfill, Reject).
    #[command(subcommand)]
    Packet(cli::packet::PacketCommand),
    /// Run the mock bank core ledger (the reference REST plugin API server).
    ///
    /// Example: cypherlink bank --config fixtures/bank.toml
    Bank(cli::bank::BankArgs),
    /// Run a CBDC ledger (digital euro or e-CNY) speaking the REST plugin API.
    ///
    /// Example: cypherlink cbdc --kind e-cny
    Cbdc(cli::cbdc::CbdcArgs),
    /// Run a receiving bank's receiver: hands payers an address and shared secret (SPSP-style
    /// setup at /.well-known/pay) and claims the escrows built from them on its ledger account.
    ///
    /// Example: cypherlink receiver --config fixtures/bank-b-receiver.toml
    Receiver(cli::receiver::ReceiverArgs),
    /// Ask a connector what a payment costs, without paying. --to is the receiver's setup URL or
    /// its ILP address; --amount is what the receiver gets, in its asset.
    ///
    /// Example: cypherlink quote --connector http://127.0.0.1:7200 --ledger digital-euro
    /// --to https://localhost:7300/.well-known/pay --ca fixtures/certs/ca.pem --amount 2000.00
    Quote(cli::quote::QuoteArgs),
    /// Pay a receiver through a connector: setup, quote, escrow, outcome. Exits non-zero with
    /// the reason if the payment fails (anything escrowed is refunded).
    ///
    /// Example: cypherlink pay --config fixtures/bank-a-payer.toml
    /// --to https://localhost:7300/.well-known/pay --amount 2000.00 --reference "invoice 7"
    Pay(cli::pay::PayArgs),
    /// Run a validator (or a non-voting full node) of the committee chain.
    ///
    /// Example: cypherlink node --config fixtures/chain/node0.toml
    Node(cli::node::NodeArgs),
    /// Committee chain tools: write a local test network, verify an inclusion proof offline.
    #[command(subcommand)]
    Chain(cli::chain::ChainCommand),
    /// Check an anchor certificate (or any inclusion proof, or a JSON array of them) offline
    /// against a genesis: Merkle paths, the transaction, the header, finality, the committee's
    /// signatures. Exit 0 with a one-line summary, 1 if it does not hold, 2 on unreadable input.
    ///
    /// Example: cypherlink verify-certificate cert.json --genesis fixtures/chain/genesis.toml
    VerifyCertificate(cli::certificate::VerifyCertificateArgs),
    /// Write throwaway TLS certificates (a local CA, a server certificate for localhost, a
    /// client certificate) for running the services by hand. Test only.
    ///
    /// Example: cypherlink dev-certs --out fixtures/certs
    DevCerts(cli::dev_certs::DevCertsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => cli::demo::run(args),
        Command::Connector(args) => cli::connector::run(args),
        Command::Packet(command) => cli::packet::run(command),
        Command::Bank(args) => cli::bank::run(args),
        Command::Cbdc(args) => cli::cbdc::run(args),
        Command::Receiver(args) => cli::receiver::run(args),
        Command::Quote(args) => cli::quote::run(args),
        Command::Pay(args) => cli::pay::run(args),
        Command::Node(args) => cli::node::run(args),
        Command::Chain(command) => cli::chain::run(command),
        Command::VerifyCertificate(args) => cli::certificate::run(args),
        Command::DevCerts(args) => cli::dev_certs::run(args),
    };
    cli::exit_code(result)
}
