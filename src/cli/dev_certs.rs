//! `cypherlink dev-certs`: throwaway TLS certificates for running the network by hand on one
//! machine: a local CA, a server certificate for localhost (and any `--name`), and a client
//! certificate for mutual TLS. Servers name `server.pem` and `server-key.pem` in their `tls`
//! settings; clients trust `ca.pem`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

/// `cypherlink dev-certs` arguments.
#[derive(Debug, Args)]
pub(crate) struct DevCertsArgs {
    /// Directory to write ca.pem, server.pem, server-key.pem, client.pem and client-key.pem
    /// into (created if missing; existing files are replaced).
    #[arg(long, value_name = "DIR", default_value = "fixtures/certs")]
    pub out: PathBuf,
    /// Another DNS name or IP address for the server certificate, besides localhost,
    /// 127.0.0.1 and ::1 (repeatable).
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,
}

/// Writes the certificates and says where they are.
pub(crate) fn run(args: DevCertsArgs) -> anyhow::Result<()> {
    let certs = tls::dev::generate(&args.out, &args.names)
        .with_context(|| format!("writing certificates into {}", args.out.display()))?;
    let days = tls::dev::VALIDITY.as_secs() / 86_400;
    super::print_line(&format!(
        "throwaway certificates (valid {days} days, TEST ONLY: the CA's key sits beside them):\n  CA (clients trust it)  {}\n  server certificate     {}\n  server key             {}\n  client certificate     {}\n  client key             {}",
        certs.ca.display(),
        certs.server_cert.display(),
        certs.server_key.display(),
        certs.client_cert.display(),
        certs.client_key.display(),
    ))
}
