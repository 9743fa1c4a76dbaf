//! `cypherlink quote`: asks a connector what a payment costs, without paying. The receiver is
//! named by its setup URL (asked for an address and its asset, as a payer would) or directly by
//! an ILP address; the amount is what the receiver gets, a decimal in the receiver's asset.

use anyhow::Context;
use clap::Args;
use connector::LedgerId;
use connector::api::client::ConnectorClient;
use connector::quote::{Quote, QuoteRequest};
use htlc::{Address, money};
use plugins::AccountId;

/// `cypherlink quote` arguments.
#[derive(Debug, Args)]
pub(crate) struct QuoteArgs {
    /// The connector's API.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:7200")]
    pub connector: String,
    /// The ledger the payer pays on, as the connector names it (e.g. digital-euro).
    #[arg(long, value_name = "LEDGER")]
    pub ledger: String,
    /// The payer's account on that ledger, so its limits apply to the quote.
    #[arg(long, value_name = "ACCOUNT")]
    pub from: Option<String>,
    /// The receiver: its setup URL (https://.../.well-known/pay) or an ILP address.
    #[arg(long, value_name = "URL|ADDRESS")]
    pub to: String,
    /// What the receiver gets, a decimal in the receiver's asset (e.g. 2000.00).
    #[arg(long, value_name = "DECIMAL")]
    pub amount: String,
    /// Print the quote as JSON instead of in words.
    #[arg(long)]
    pub json: bool,
    /// A PEM file of the CA to trust for https:// connector and setup URLs (default: the
    /// system's roots), e.g. the one `cypherlink dev-certs` wrote.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
}

/// Runs the command.
pub(crate) fn run(args: QuoteArgs) -> anyhow::Result<()> {
    let to = Target::parse(&args.to)?;
    let ledger = LedgerId::new(args.ledger.clone());
    let from = args
        .from
        .as_deref()
        .map(AccountId::new)
        .transpose()
        .map_err(|e| super::InputError(format!("--from: {e}")))?;
    super::runtime()?.block_on(async move {
        let client = ConnectorClient::new(&args.connector);
        let client = match &args.ca {
            Some(ca) => client
                .with_tls(&tls::ClientTls::trusting(ca))
                .with_context(|| format!("--ca {}", ca.display()))?,
            None => client,
        };
        let (destination, scale) = match to {
            Target::Setup(url) => {
                let spsp = client
                    .setup(&url)
                    .await
                    .with_context(|| format!("receiver setup at {url}"))?;
                let asset = spsp.asset_info.clone().with_context(|| {
                    format!("the receiver at {url} did not say which asset it is paid in (asset_info)")
                })?;
                (spsp.destination_account, asset.scale)
            }
            Target::Address(address) => {
                // Only the connector knows the destination's asset: a quote for one minor unit
                // tells it (and promises nothing).
                let probe = QuoteRequest {
                    source_ledger: ledger.clone(),
                    source_account: from.clone(),
                    destination: address.clone(),
                    destination_amount: Some(1),
                    source_amount: None,
                };
                let scale = client
                    .quote(&probe)
                    .await
                    .context("quote refused")?
                    .destination_asset
                    .scale;
                (address, scale)
            }
        };
        let amount = money::parse_decimal(&args.amount, scale)
            .map_err(|e| super::InputError(format!("--amount {:?}: {e}", args.amount)))?;
        let quote = client
            .quote(&QuoteRequest {
                source_ledger: ledger,
                source_account: from,
                destination,
                destination_amount: Some(amount),
                source_amount: None,
            })
            .await
            .context("quote refused")?;
        if args.json {
            return super::print_line(&serde_json::to_string_pretty(&quote)?);
        }
        for line in describe(&quote) {
            super::print_line(&line)?;
        }
        Ok(())
    })
}

/// The quote in words, one line per fact.
pub(crate) fn describe(q: &Quote) -> Vec<String> {
    vec![
        format!(
            "quote {}: {} to {} costs {} ({} + {} fee)",
            q.id,
            q.destination_asset.display(q.destination_amount),
            q.destination_account,
            q.source_asset.display(q.source_amount),
            q.source_asset.display(q.source_amount.saturating_sub(q.fee)),
            q.source_asset.display(q.fee),
        ),
        format!(
            "  escrow on {} for {}, with an expiry at least {} ms ahead (e.g. {})",
            q.source_ledger, q.pay_to, q.expiry_window_ms, q.expires_at
        ),
        format!(
            "  delivered on {} to {} (route {}, rate {} in minor units)",
            q.destination_ledger, q.destination_account, q.route, q.rate
        ),
        format!("  valid until {}", q.valid_until),
    ]
}

/// Who is paid.
enum Target {
    Setup(String),
    Address(Address),
}

impl Target {
    fn parse(text: &str) -> Result<Self, super::InputError> {
        if text.starts_with("http://") || text.starts_with("https://") {
            connector::sender::require_https(text).map_err(|e| super::InputError(format!("--to: {e}")))?;
            Ok(Target::Setup(text.to_owned()))
        } else {
            Address::new(text).map(Target::Address).map_err(|e| {
                super::InputError(format!(
                    "--to {text:?} is neither a setup URL (https://...) nor an ILP address: {e}"
                ))
            })
        }
    }
}
