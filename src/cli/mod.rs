//! One module per subcommand. Each exposes its clap arguments and a `run` function; `main.rs`
//! only dispatches. Errors are `anyhow` here (and only here); an [`InputError`] anywhere in the
//! chain means the user gave bad input and the process exits with status 2, like clap's own
//! usage errors. Any other error exits with status 1.

pub(crate) mod anchor;
pub(crate) mod bank;
pub(crate) mod cbdc;
pub(crate) mod certificate;
pub(crate) mod chain;
pub(crate) mod connector;
pub(crate) mod demo;
pub(crate) mod dev_certs;
pub(crate) mod did;
pub(crate) mod node;
pub(crate) mod packet;
pub(crate) mod pay;
pub(crate) mod quote;
pub(crate) mod receiver;

use std::io::Write;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// What one service's `--help` says of the options in [`ServeArgs`]: the options are the same
/// for every service, but the file, the listener and the database are each service's own.
pub(crate) trait ServeHelp {
    /// `--config`: what the file holds and which file is read without it.
    const CONFIG: &'static str;
    /// `--listen`: what is served on the address.
    const LISTEN: &'static str =
        "Listen on this address instead of the configured one (port 0 picks a free port)";
    /// `--database`: what the SQLite file keeps.
    const DATABASE: &'static str = "Use this SQLite file instead of the configured one";
}

/// A service that serves from a configuration file: which file, and the listener and database
/// to use instead of the configured ones. `H` words the help for the service at hand.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs<H: ServeHelp> {
    /// The configuration file; `None` means the service's default file or built-in copy.
    #[arg(long, value_name = "FILE", help = H::CONFIG)]
    pub config: Option<PathBuf>,
    /// The address to listen on instead of the configured one.
    #[arg(long, value_name = "ADDR", help = H::LISTEN)]
    pub listen: Option<SocketAddr>,
    /// The SQLite file to use instead of the configured one.
    #[arg(long, value_name = "FILE", help = H::DATABASE)]
    pub database: Option<PathBuf>,
    /// HTTPS instead of what the configuration says.
    #[command(flatten)]
    pub tls: TlsListenArgs,
    #[arg(skip)]
    help: PhantomData<H>,
}

impl<H: ServeHelp> ServeArgs<H> {
    /// Puts the address and HTTPS settings given over a configured listener's.
    pub(crate) fn override_listener(
        &self,
        listen: &mut SocketAddr,
        tls: &mut Option<tls::ServerTls>,
        plain_http: &mut bool,
    ) {
        if let Some(address) = self.listen {
            *listen = address;
        }
        if let Some(server_tls) = self.tls.server_tls() {
            *tls = Some(server_tls);
            *plain_http = false;
        }
    }
}

/// A listener's TLS files from the command line, overriding the configuration's.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TlsListenArgs {
    /// Serve HTTPS with this PEM certificate chain (with --tls-key), e.g. from `cypherlink
    /// dev-certs`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's PEM private key.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Mutual TLS: accept only clients with a certificate from this PEM CA.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<std::path::PathBuf>,
}

impl TlsListenArgs {
    /// The TLS settings given, if any.
    pub(crate) fn server_tls(&self) -> Option<tls::ServerTls> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(tls::ServerTls {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.tls_client_ca.clone(),
            }),
            _ => None,
        }
    }
}

/// The user's input was malformed (as opposed to a failure while acting on good input).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct InputError(pub String);

/// Prints the error chain and maps it to the exit status.
pub(crate) fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.chain().any(|cause| cause.is::<InputError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Prints a line on stdout. A closed pipe (`cypherlink ... | head`) is not an error: the reader
/// has what it wanted.
pub(crate) fn print_line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `default_filter`).
pub(crate) fn init_tracing(default_filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into()),
        )
        .try_init();
}

/// The async runtime for a subcommand.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
