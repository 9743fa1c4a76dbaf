//! `cypherlink pay`: the paying bank's side of a payment, step by step. It asks the receiver
//! for an address and a shared secret, gets a quote from the connector, builds the packet
//! whose condition only the receiver can fulfil, escrows the quoted amount on the payer's
//! ledger and waits for the outcome. It exits 0 once the escrow is fulfilled (the receiver was
//! paid), and non-zero with the reason otherwise; an escrow that was made is refunded then.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use connector::LedgerId;
use connector::receiver::config::PayerConfig;
use connector::sender::{PayError, Payer, Progress};
use htlc::{Clock, SystemClock, money};
use plugins::{LedgerPlugin, RestPlugin, RestPluginConfig};

/// `cypherlink pay` arguments.
#[derive(Debug, Args)]
pub(crate) struct PayArgs {
    /// Payer configuration (TOML): the ledger URL, the bank's key and account, and the
    /// connector's URL.
    #[arg(long, value_name = "FILE", default_value = "fixtures/bank-a-payer.toml")]
    pub config: PathBuf,
    /// The receiver's setup URL (e.g. https://localhost:7300/.well-known/pay). HTTPS only: the
    /// answer is the payment's shared secret.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// What the receiver gets, a decimal in the receiver's asset (e.g. 2000.00).
    #[arg(long, value_name = "DECIMAL")]
    pub amount: String,
    /// Free text the receiver records with the payment (at most 140 bytes).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub reference: String,
}

/// Runs the payment.
pub(crate) fn run(args: PayArgs) -> anyhow::Result<()> {
    super::init_tracing("warn");
    let config = PayerConfig::from_file(&args.config)
        .map_err(|e| super::InputError(format!("{}: {e}", args.config.display())))?;
    connector::sender::require_https(&args.to).map_err(|e| super::InputError(format!("--to: {e}")))?;
    if args.reference.len() > connector::payment_data::MAX_REFERENCE_LEN {
        return Err(super::InputError(format!(
            "--reference is {} bytes; at most {} fit in the packet",
            args.reference.len(),
            connector::payment_data::MAX_REFERENCE_LEN
        ))
        .into());
    }
    // The syntax is checked now; the number of decimals once the receiver names its asset.
    let decimals = args
        .amount
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len());
    let scale = u8::try_from(decimals).unwrap_or(u8::MAX).min(money::MAX_SCALE);
    money::parse_decimal(&args.amount, scale)
        .map_err(|e| super::InputError(format!("--amount {:?}: {e}", args.amount)))?;
    super::runtime()?.block_on(pay(config, args))
}

async fn pay(config: PayerConfig, args: PayArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let section = &config.ledger;
    let mut plugin_config =
        RestPluginConfig::new(&section.url, &section.key_id, section.key_secret.as_bytes());
    plugin_config.tls = section.tls.clone();
    let plugin = RestPlugin::connect_with_clock(plugin_config, Arc::clone(&clock))
        .await
        .with_context(|| format!("connecting to the payer's ledger at {}", section.url))?;
    let source_asset = plugin.info().asset.clone();
    let ledger = config
        .connector
        .ledger
        .clone()
        .unwrap_or_else(|| LedgerId::new(plugin.info().ledger_id.clone()));
    let payer = Payer::new(
        Arc::new(plugin),
        ledger.clone(),
        section.account.clone(),
        &config.connector.url,
        clock,
    );
    let payer = match &config.tls {
        Some(tls) => payer.with_tls(tls).context("the payer's [tls] settings")?,
        None => payer,
    };

    let spsp = payer.setup(&args.to).await.context("payment failed")?;
    let asset = spsp.asset_info.clone().with_context(|| {
        format!(
            "payment failed: the receiver at {} did not say which asset it is paid in (asset_info)",
            args.to
        )
    })?;
    let amount = money::parse_decimal(&args.amount, asset.scale)
        .map_err(|e| super::InputError(format!("--amount {:?} in {}: {e}", args.amount, asset.code)))?;
    super::print_line(&format!(
        "setup    the receiver's address is {} (paid in {}, {} decimals)",
        spsp.destination_account, asset.code, asset.scale
    ))?;

    let progress = |step: &Progress| {
        let line = match step {
            Progress::Setup(_) => return,
            Progress::Quoted(q) => format!(
                "quote    {} costs {} ({} + {} fee), quote {} valid until {}",
                q.destination_asset.display(q.destination_amount),
                q.source_asset.display(q.source_amount),
                q.source_asset.display(q.source_amount.saturating_sub(q.fee)),
                q.source_asset.display(q.fee),
                q.id,
                q.valid_until
            ),
            Progress::Escrowed { transfer, uetr } => format!(
                "escrow   {} escrowed it on {} for the connector (transfer {transfer}, UETR {uetr}); waiting for the outcome",
                section.account, ledger
            ),
        };
        // A closed stdout must not stop the payment half-way.
        let _ = super::print_line(&line);
    };
    match payer.pay(&spsp, amount, &args.reference, progress).await {
        Ok(receipt) => {
            super::print_line(&format!(
                "outcome  paid: the receiver got {} for {} (UETR {}); the preimage {} proves it",
                asset.display(receipt.quote.destination_amount),
                source_asset.display(receipt.quote.source_amount),
                receipt.uetr,
                receipt
                    .transfer
                    .fulfillment
                    .map(|f| f.to_hex())
                    .unwrap_or_default(),
            ))?;
            Ok(())
        }
        Err(error) => {
            let refunded = match &error {
                PayError::Rejected { .. } => "; the escrow was refunded",
                _ => "",
            };
            Err(anyhow::anyhow!("payment failed: {error}{refunded}"))
        }
    }
}
