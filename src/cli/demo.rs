//! `cypherlink demo`: the whitepaper's clearing-bank scenario on this machine. It starts a
//! digital-euro ledger, an e-CNY ledger, the clearing bank's connector with wholesale accounts on
//! both, Bank B's receiver and Bank A's payer — every part a real server on a free 127.0.0.1
//! port with its SQLite file in a temporary directory — and runs one payment, printing each step
//! as it happens and every account's balance before and after. With `--chain`, DC/EP settles
//! on the committee chain instead: four validators run in the demo process, the central bank
//! issues DC/EP on it, and the connector and Bank B use the chain in place of the e-CNY ledger.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use connector::payment::{Payment, PaymentState};
use connector::runtime::RunningConnector;
use connector::sender::{PayError, Payer, Progress};
use htlc::{Asset, Clock, SystemClock, money};
use testnet::chain_network::ChainNetwork;
use testnet::network::{AccountBalance, LocalNetwork, NetworkError, NetworkOptions};

/// A way for the demo payment to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailCase {
    /// Bank B refuses the payment (it was built with the wrong secret): refunded at once.
    ReceiverRejects,
    /// Bank B's receiver is down: both escrows expire and are refunded, outgoing first.
    ReceiverOffline,
}

/// `cypherlink demo` arguments.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Make the payment fail this way, to watch the refunds.
    #[arg(long, value_enum)]
    pub fail: Option<FailCase>,
    /// Amount Bank B is paid, in DC/EP.
    #[arg(long, default_value = "2000.00")]
    pub amount: String,
    /// Keep the ledgers' and connector's SQLite files here instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Settle DC/EP on the committee chain (four validators started by the demo) instead of
    /// the e-CNY ledger.
    #[arg(long)]
    pub chain: bool,
}

/// The demo network: DC/EP on the e-CNY ledger, or on the committee chain.
enum Network {
    Cbdc(Box<LocalNetwork>),
    Chain(Box<ChainNetwork>),
}

impl Network {
    fn payer(&self) -> &Payer {
        match self {
            Network::Cbdc(net) => &net.payer,
            Network::Chain(net) => &net.payer,
        }
    }

    fn receiver_url(&self) -> &str {
        match self {
            Network::Cbdc(net) => &net.ledgers.receiver_url,
            Network::Chain(net) => &net.receiver_url,
        }
    }

    fn connector(&self) -> &RunningConnector {
        match self {
            Network::Cbdc(net) => &net.connector,
            Network::Chain(net) => &net.connector,
        }
    }

    /// Where DC/EP settles, for the narration.
    fn dcep_ledger(&self) -> &'static str {
        match self {
            Network::Cbdc(_) => "e-CNY",
            Network::Chain(_) => "the chain",
        }
    }

    /// What runs where, one line each.
    fn describe(&self) -> Vec<String> {
        let connector = format!(
            "  clearing bank's connector    {}   (operator API token: {})",
            self.connector().base_url(),
            match self {
                Network::Cbdc(net) => &net.connector_config.api.operator_token,
                Network::Chain(net) => &net.connector_config.api.operator_token,
            }
        );
        let mut lines = match self {
            Network::Cbdc(net) => vec![
                format!(
                    "  digital-euro ledger (DE)     {}",
                    net.ledgers.digital_euro.base_url()
                ),
                format!("  e-CNY ledger (DC/EP)         {}", net.ledgers.e_cny.base_url()),
            ],
            Network::Chain(net) => {
                let mut lines = vec![format!(
                    "  digital-euro ledger (DE)     {}",
                    net.digital_euro.base_url()
                )];
                for i in 0..net.committee.apis.len() {
                    lines.push(format!(
                        "  chain validator {i} (DC/EP)   {}",
                        net.committee.api_url(i)
                    ));
                }
                lines
            }
        };
        lines.push(connector);
        lines.push(format!("  Bank B's receiver            {}", self.receiver_url()));
        lines
    }

    async fn balances(&self) -> Result<Vec<AccountBalance>, NetworkError> {
        match self {
            Network::Cbdc(net) => net.balances().await,
            Network::Chain(net) => net.balances().await,
        }
    }

    async fn stop(self) {
        match self {
            Network::Cbdc(net) => (*net).stop().await,
            Network::Chain(net) => (*net).stop().await,
        }
    }
}

struct Narrator {
    started: Instant,
}

impl Narrator {
    fn say(&self, text: impl AsRef<str>) {
        let elapsed = self.started.elapsed().as_secs_f64() * 1000.0;
        let _ = super::print_line(&format!("[{elapsed:>7.1} ms] {}", text.as_ref()));
    }
}

/// Runs the demo.
pub(crate) fn run(args: DemoArgs) -> anyhow::Result<()> {
    super::init_tracing("warn");
    let amount = money::parse_decimal(&args.amount, 2)
        .map_err(|e| super::InputError(format!("--amount {:?}: {e}", args.amount)))?;
    super::runtime()?.block_on(demo(args, amount))
}

async fn demo(args: DemoArgs, amount: u64) -> anyhow::Result<()> {
    let temp = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = args.data_dir.clone().unwrap_or_else(|| temp.path().to_owned());
    let n = Narrator {
        started: Instant::now(),
    };
    let options = NetworkOptions {
        receiver_online: args.fail != Some(FailCase::ReceiverOffline),
        ..NetworkOptions::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let net = if args.chain {
        n.say("Starting four chain validators and issuing DC/EP on the chain...");
        Network::Chain(Box::new(
            ChainNetwork::start(&dir, clock, options)
                .await
                .context("starting the demo network")?,
        ))
    } else {
        Network::Cbdc(Box::new(
            LocalNetwork::start(&dir, clock, options)
                .await
                .context("starting the demo network")?,
        ))
    };
    n.say("The network is up:");
    for line in net.describe() {
        n.say(line);
    }
    n.say(format!("  data files                   {}", dir.display()));
    let before = net.balances().await.context("reading balances")?;

    let outcome = pay(&net, &n, &args, amount).await;
    match &outcome {
        Ok(()) => n.say("Done: Bank B was paid, and the clearing bank collected its fee."),
        Err(e) => n.say(format!("The payment failed as intended: {e}")),
    }
    let after = net.balances().await.context("reading balances")?;
    print_balances(&before, &after)?;
    net.stop().await;
    match (args.fail, outcome) {
        (None, Err(e)) => Err(e.into()),
        (Some(_), Ok(())) => Err(anyhow::anyhow!("the payment was supposed to fail but succeeded")),
        _ => Ok(()),
    }
}

async fn pay(net: &Network, n: &Narrator, args: &DemoArgs, amount: u64) -> Result<(), PayError> {
    let mut spsp = net.payer().setup(net.receiver_url()).await?;
    n.say(format!(
        "Step 1     Bank B gives Bank A its address {} and a shared secret",
        spsp.destination_account
    ));
    if args.fail == Some(FailCase::ReceiverRejects) {
        spsp.shared_secret = net.payer().setup(net.receiver_url()).await?.shared_secret;
        n.say("           (the demo swaps in another connection's secret: Bank B will not recognise the packet)");
    }
    if args.fail == Some(FailCase::ReceiverOffline) {
        n.say("           (the demo keeps Bank B's receiver offline: nobody will claim the escrow)");
    }

    // Narrate the connector's side as its journal commits each step.
    let mut updates = net.connector().connector.payment_updates();
    let narrate = async {
        let tables = net.connector().connector.tables();
        while let Ok(p) = updates.recv().await {
            let asset = p
                .outgoing
                .as_ref()
                .and_then(|o| tables.ledgers.get(&o.ledger))
                .map(|l| l.info.asset.clone());
            narrate_connector(n, &p, asset.as_ref(), net.dcep_ledger());
            if p.state.is_final() {
                break;
            }
        }
    };
    let progress = |p: &Progress| {
        match p {
        Progress::Setup(_) => {}
        Progress::Quoted(q) => {
            n.say(format!(
                "Step 2     Bank A gets a quote: {} costs {} ({} + {} fee), valid until {}",
                q.destination_asset.display(q.destination_amount),
                q.source_asset.display(q.source_amount),
                q.source_asset.display(q.source_amount - q.fee),
                q.source_asset.display(q.fee),
                q.valid_until
            ));
            n.say("Step 3     Bank A builds the packet: fulfillment = HMAC(secret, data), condition = SHA-256(fulfillment)");
        }
        Progress::Escrowed { transfer, uetr } => n.say(format!(
            "Step 4     Bank A escrows the amount on digital-euro for the clearing bank (transfer {transfer}, UETR {uetr})"
        )),
    }
    };
    let (result, ()) = tokio::join!(
        net.payer().pay(&spsp, amount, "demo invoice 1", progress),
        async {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(60), narrate).await;
        }
    );
    let receipt = result?;
    n.say(format!(
        "Step 13    Bank A's escrow is fulfilled; the preimage is its proof that Bank B was paid (UETR {})",
        receipt.uetr
    ));
    Ok(())
}

fn narrate_connector(n: &Narrator, p: &Payment, outgoing_asset: Option<&Asset>, dcep_ledger: &str) {
    let out = p.outgoing.as_ref();
    match p.state {
        PaymentState::Forwarding => n.say(format!(
            "Step 5-6   The connector sees the escrow, reads the packet for {}, routes it to {} on {}",
            p.destination,
            out.map_or("?".into(), |o| o.to.to_string()),
            out.map_or("?".into(), |o| o.ledger.to_string()),
        )),
        PaymentState::Forwarded => n.say(format!(
            "Step 7     The connector escrows {} for Bank B, same condition, expiring {} (incoming expires {})",
            match (out, outgoing_asset) {
                (Some(o), Some(a)) => a.display(o.amount),
                (Some(o), None) => o.amount.to_string(),
                _ => "?".into(),
            },
            out.map_or("?".into(), |o| o.expires_at.to_string()),
            p.incoming.expires_at
        )),
        PaymentState::Fulfilling => n.say(format!(
            "Step 8-11  Bank B re-derives the fulfillment, checks the amount and fulfils on {dcep_ledger}; the connector learns the preimage"
        )),
        PaymentState::Fulfilled => n.say("Step 12    The connector fulfils Bank A's escrow with the same preimage and is paid"),
        PaymentState::Rejecting => n.say(format!(
            "           The connector gives up: {} {}",
            p.reject_code.map(|c| c.to_string()).unwrap_or_default(),
            p.reject_message.clone().unwrap_or_default()
        )),
        PaymentState::Rejected => n.say("           The connector rejects Bank A's escrow: Bank A is refunded"),
        PaymentState::Lost => n.say("           ALERT: the connector paid but could not claim the incoming escrow"),
    }
}

fn print_balances(before: &[AccountBalance], after: &[AccountBalance]) -> anyhow::Result<()> {
    let previous: BTreeMap<_, _> = before
        .iter()
        .map(|b| ((b.ledger.clone(), b.account.clone()), b.available))
        .collect();
    super::print_line("")?;
    super::print_line(&format!(
        "{:<13} {:<16} {:<24} {:>18} {:>18} {:>14}",
        "ledger", "account", "holder", "before", "after", "change"
    ))?;
    for b in after {
        let was = previous
            .get(&(b.ledger.clone(), b.account.clone()))
            .copied()
            .unwrap_or(0);
        let change = b.available - was;
        super::print_line(&format!(
            "{:<13} {:<16} {:<24} {:>18} {:>18} {:>14}",
            b.ledger.as_str(),
            short_id(b.account.as_str(), 16),
            truncate(&b.name, 24),
            signed(&b.asset, was),
            signed(&b.asset, b.available),
            if change == 0 {
                String::new()
            } else {
                signed_change(&b.asset, change)
            },
        ))?;
    }
    Ok(())
}

/// `id` in at most `width` characters: long ones (chain accounts are 64 hex digits) keep their
/// start and end.
fn short_id(id: &str, width: usize) -> String {
    if id.chars().count() <= width {
        return id.to_owned();
    }
    let keep = (width - 1) / 2;
    let head: String = id.chars().take(keep).collect();
    let tail: String = id.chars().skip(id.chars().count() - keep).collect();
    format!("{head}…{tail}")
}

fn truncate(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

fn signed(asset: &Asset, minor: i128) -> String {
    let magnitude = money::format_decimal(
        u64::try_from(minor.unsigned_abs()).unwrap_or(u64::MAX),
        asset.scale,
    );
    format!("{}{magnitude} {}", if minor < 0 { "-" } else { "" }, asset.code)
}

fn signed_change(asset: &Asset, minor: i128) -> String {
    let magnitude = money::format_decimal(
        u64::try_from(minor.unsigned_abs()).unwrap_or(u64::MAX),
        asset.scale,
    );
    format!("{}{magnitude}", if minor < 0 { "-" } else { "+" })
}
