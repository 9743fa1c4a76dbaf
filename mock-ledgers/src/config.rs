//! A ledger's configuration file (TOML) and its validated form.
//!
//! Everything that can have a default has one, so a fixture config only names the ledger, its
//! participants (who may call the API, with their signing keys) and its accounts. Amounts are
//! written as decimals in the ledger's asset (`"3000.00"`) and turned into minor units here, once,
//! with [`htlc::money::parse_decimal`], so a wrong number of decimals is a config error rather than
//! a silent rounding.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use htlc::money::parse_decimal;
use htlc::{Address, Asset, AssetCode};
use serde::Deserialize;

use plugins::plugin::{AccountId, LedgerInfo};

pub use plumbing::ConfigError;

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// Which rule set the ledger applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LedgerKind {
    /// A commercial bank's core ledger: accounts with optional overdrafts, no issuance.
    Bank,
    /// The digital euro: holding limit, waterfall to linked bank accounts, two-tier issuance.
    DigitalEuro,
    /// e-CNY (DC/EP): wallet tiers with balance and spending limits, two-tier issuance.
    ECny,
}

impl LedgerKind {
    /// The name used in configs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Bank => "bank",
            LedgerKind::DigitalEuro => "digital-euro",
            LedgerKind::ECny => "e-cny",
        }
    }
}

pub use plugins::api::AccountKind;

/// SQLite's durability for the ledger database: `full` (the default) fsyncs every commit, so
/// an acknowledged change survives power loss; `normal` fsyncs at WAL checkpoints, so it
/// survives a process crash (kill -9) but maybe not a power loss. Faster on slow disks.
pub use plumbing::Durability;

/// The raw file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfigFile {
    /// Identity and asset.
    pub ledger: LedgerSection,
    /// Listening, storage and limits of the HTTP service.
    #[serde(default)]
    pub server: ServerSection,
    /// Request signing.
    #[serde(default)]
    pub auth: AuthSection,
    /// Webhook delivery.
    #[serde(default)]
    pub webhooks: WebhookSection,
    /// Who may call the API.
    #[serde(default)]
    pub participants: Vec<ParticipantConfig>,
    /// The accounts the ledger starts with.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    /// Digital euro rules (used when `ledger.kind = "digital-euro"`).
    #[serde(default)]
    pub digital_euro: DigitalEuroSection,
    /// e-CNY rules (used when `ledger.kind = "e-cny"`).
    #[serde(default)]
    pub e_cny: ECnySection,
}

/// `[ledger]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSection {
    /// Stable ledger id, e.g. `mock-bank`.
    pub id: String,
    /// Rule set.
    #[serde(default = "default_kind")]
    pub kind: LedgerKind,
    /// Asset code, e.g. `EUR`.
    pub asset: String,
    /// Decimal places of the minor unit.
    #[serde(default = "default_scale")]
    pub scale: u8,
    /// ILP address prefix of this ledger's accounts.
    pub ilp_prefix: String,
    /// How long until a change is final, for the connector's margins.
    #[serde(default = "default_finality")]
    pub expected_finality_ms: u64,
    /// Most money that may exist on this ledger (decimal): opening balances plus issuance less
    /// redemption. Default and ceiling: [`MAX_LEDGER_AMOUNT`] minor units.
    #[serde(default)]
    pub max_supply: Option<String>,
    /// Longest an escrow may be held, ms: a prepare expiring later than this after the ledger's
    /// clock is refused, so no escrow locks funds for years. Default 7 days.
    #[serde(default = "default_max_hold")]
    pub max_hold_ms: u64,
}

/// Largest amount, supply cap and sum of overdraft limits a ledger accepts, in minor units.
///
/// Balances are SQLite (signed 64-bit) integers. With the supply at most this and the
/// overdrafts adding up to at most this, no balance, hold or booked sum can exceed four times
/// it, which is `i64::MAX`: the bounds, checked at configuration time, are what make overflow
/// impossible; the book's checked arithmetic is the second line.
pub const MAX_LEDGER_AMOUNT: u64 = i64::MAX as u64 / 4;

/// Longest `max_hold_ms` a configuration may set: one year.
pub const MAX_HOLD_CEILING_MS: u64 = 366 * 24 * 3_600_000;

fn default_kind() -> LedgerKind {
    LedgerKind::Bank
}
fn default_scale() -> u8 {
    2
}
fn default_finality() -> u64 {
    100
}
fn default_max_hold() -> u64 {
    7 * 24 * 3_600_000
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// SQLite file; default `<temp dir>/cypherlink-<ledger id>.sqlite`.
    pub database: Option<PathBuf>,
    /// See [`Durability`].
    pub durability: Durability,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most requests committed in one SQLite transaction (group commit).
    pub max_batch: usize,
    /// HTTP worker threads.
    pub workers: usize,
    /// Longest long-poll wait a client may ask for, in milliseconds.
    pub max_wait_ms: u64,
    /// SQLite page size of a new database (512-65536, a power of two). Smaller pages mean
    /// fewer bytes written per commit when keys are random (transfer ids, idempotency keys).
    pub page_size: u32,
    /// HTTPS: certificate, key and (for mutual TLS) the CA of the clients' certificates.
    pub tls: Option<tls::ServerTls>,
    /// Serve plain HTTP. Only when said here: a ledger with neither this nor `tls` does not
    /// start.
    pub plain_http: bool,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: None,
            durability: Durability::Full,
            max_body_bytes: 64 * 1024,
            max_batch: 512,
            workers: 2,
            max_wait_ms: 30_000,
            page_size: 4096,
            tls: None,
            plain_http: false,
        }
    }
}

/// `[auth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// A signed request's timestamp must be within this many seconds of the ledger's clock.
    pub window_secs: u64,
}

impl Default for AuthSection {
    fn default() -> Self {
        AuthSection { window_secs: 30 }
    }
}

/// `[webhooks]`: delivery timing, and where participants may point their webhooks (see
/// [`crate::server::webhooks::policy`]). The default is closed: `https` only, and no loopback,
/// link-local, private or other internal address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSection {
    /// Delay before the first retry of a failed delivery.
    pub initial_backoff_ms: u64,
    /// Cap of the exponential backoff.
    pub max_backoff_ms: u64,
    /// How long to wait for the receiver's answer.
    pub timeout_ms: u64,
    /// URL schemes a webhook may use (`"https"`, `"http"`); default `["https"]`.
    #[serde(deserialize_with = "webhook_schemes")]
    pub schemes: Vec<crate::server::webhooks::policy::Scheme>,
    /// Internal destinations the operator permits anyway: addresses (`"127.0.0.1"`), CIDR
    /// ranges (`"10.20.0.0/16"`) or host names (`"hooks.bank-a.internal"`, trusted whatever
    /// they resolve to). Default: none.
    pub allow: Vec<crate::server::webhooks::policy::AllowEntry>,
}

impl Default for WebhookSection {
    fn default() -> Self {
        WebhookSection {
            initial_backoff_ms: 1_000,
            max_backoff_ms: 600_000,
            timeout_ms: 5_000,
            schemes: vec![crate::server::webhooks::policy::Scheme::Https],
            allow: Vec::new(),
        }
    }
}

impl WebhookSection {
    /// The destination policy these settings describe.
    pub fn policy(&self) -> crate::server::webhooks::policy::WebhookPolicy {
        crate::server::webhooks::policy::WebhookPolicy::new(self.schemes.clone(), self.allow.clone())
    }
}

/// `webhooks.schemes`, refusing an empty list (no URL could ever be registered).
fn webhook_schemes<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<crate::server::webhooks::policy::Scheme>, D::Error> {
    let schemes = Vec::deserialize(deserializer)?;
    if schemes.is_empty() {
        return Err(serde::de::Error::custom(
            "webhooks.schemes must name at least one scheme (\"https\", \"http\")",
        ));
    }
    Ok(schemes)
}

/// `[[participants]]`: an institution or person calling the API, with its keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantConfig {
    /// Participant id; accounts name it as their owner.
    pub id: String,
    /// Signing keys; several at once during a rotation.
    pub keys: Vec<KeyConfig>,
}

/// One HMAC key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Key id sent in `CypherLink-Key-Id`.
    pub id: String,
    /// The shared secret (its UTF-8 bytes are the HMAC key).
    pub secret: String,
}

/// `[[accounts]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Account id.
    pub id: String,
    /// Holder name (for name checks and statements).
    pub name: String,
    /// The participant that operates it.
    pub owner: String,
    /// What it is for.
    pub kind: AccountKind,
    /// How far below zero it may go (decimal); default 0.
    #[serde(default)]
    pub overdraft_limit: Option<String>,
    /// Funds it starts with on first start (decimal); on a CBDC ledger this is issued money.
    #[serde(default)]
    pub opening_balance: Option<String>,
    /// e-CNY wallet tier (1-4).
    #[serde(default)]
    pub tier: Option<u8>,
    /// Digital euro: the account excess sweeps to and shortfalls are pulled from.
    #[serde(default)]
    pub linked_account: Option<String>,
    /// Digital euro merchant wallet: holds nothing, everything received sweeps out.
    #[serde(default)]
    pub merchant: bool,
}

/// `[digital_euro]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigitalEuroSection {
    /// Per-person holding limit (decimal).
    pub holding_limit: String,
}

impl Default for DigitalEuroSection {
    fn default() -> Self {
        DigitalEuroSection {
            holding_limit: "3000.00".into(),
        }
    }
}

/// `[e_cny]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ECnySection {
    /// Offset of the day boundary used by daily and annual limits from UTC, in minutes
    /// (480 = China Standard Time).
    pub utc_offset_minutes: i64,
    /// Limits per tier, keyed `"1"`..`"4"`.
    pub tiers: BTreeMap<String, TierSection>,
}

impl Default for ECnySection {
    fn default() -> Self {
        let tier = |b: &str, p: &str, d: &str, a: &str| TierSection {
            balance_limit: b.into(),
            per_payment_limit: p.into(),
            daily_limit: d.into(),
            annual_limit: a.into(),
        };
        // The 2020 pilot figures, in CNY.
        ECnySection {
            utc_offset_minutes: 480,
            tiers: BTreeMap::from([
                ("1".into(), tier("500000", "50000", "100000", "500000")),
                ("2".into(), tier("10000", "5000", "10000", "300000")),
                ("3".into(), tier("2000", "2000", "2000", "50000")),
                ("4".into(), tier("1000", "500", "1000", "10000")),
            ]),
        }
    }
}

/// `[e_cny.tiers.N]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSection {
    /// Most the wallet may hold, pending incoming transfers included.
    pub balance_limit: String,
    /// Largest single payment.
    pub per_payment_limit: String,
    /// Most paid out per day.
    pub daily_limit: String,
    /// Most paid out per calendar year.
    pub annual_limit: String,
}

/// A validated configuration: amounts in minor units, references checked.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// What the ledger tells connectors about itself.
    pub info: LedgerInfo,
    /// Rule set.
    pub kind: LedgerKind,
    /// Supply cap, minor units (at most [`MAX_LEDGER_AMOUNT`]).
    pub max_supply: u64,
    /// Longest escrow lifetime, ms.
    pub max_hold_ms: u64,
    /// Server settings.
    pub server: ServerSection,
    /// Signing window.
    pub auth_window_secs: u64,
    /// Webhook delivery.
    pub webhooks: WebhookSection,
    /// Key id -> (participant, secret).
    pub keys: HashMap<String, KeySpec>,
    /// Accounts in file order.
    pub accounts: Vec<AccountSpec>,
    /// Digital euro holding limit, minor units.
    pub holding_limit: u64,
    /// e-CNY day boundary offset.
    pub ecny_utc_offset_minutes: i64,
    /// e-CNY tier limits, minor units.
    pub tiers: BTreeMap<u8, TierLimits>,
}

/// A key, resolved.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// The participant it authenticates.
    pub participant: String,
    /// HMAC key bytes.
    pub secret: Vec<u8>,
}

/// An account, resolved: its terms and the balance it opens with.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    /// Who holds and operates it, and the rules it is under.
    pub terms: AccountTerms,
    /// Opening balance, minor units.
    pub opening_balance: u64,
}

/// What the configuration says of an account, as the ledger keeps it with the account's money
/// ([`crate::server::book::AccountState`]) and as the HTTP layer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTerms {
    /// Id.
    pub id: AccountId,
    /// Holder name.
    pub name: String,
    /// Owning participant.
    pub owner: String,
    /// Kind.
    pub kind: AccountKind,
    /// How far below zero the balance may go, minor units.
    pub overdraft_limit: u64,
    /// e-CNY tier.
    pub tier: Option<u8>,
    /// Digital euro linked account.
    pub linked_account: Option<AccountId>,
    /// Digital euro merchant.
    pub merchant: bool,
}

/// One e-CNY tier's limits in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    /// Most held.
    pub balance: u64,
    /// Largest payment.
    pub per_payment: u64,
    /// Most paid per day.
    pub daily: u64,
    /// Most paid per year.
    pub annual: u64,
}

impl LedgerConfig {
    /// Reads and validates a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        Self::from_parts(plumbing::config::load(path)?)
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::from_parts(plumbing::config::parse(text, "<text>")?)
    }

    /// Parses TOML text, lets `edit` change the parsed file (tests point `server.listen` at port
    /// 0 and `server.database` at a scratch file), then validates.
    pub fn from_toml_with(text: &str, edit: impl FnOnce(&mut LedgerConfigFile)) -> Result<Self, ConfigError> {
        let mut file: LedgerConfigFile = plumbing::config::parse(text, "<text>")?;
        edit(&mut file);
        Self::from_parts(file)
    }

    /// Validates an already parsed file (tests build or tweak one in code).
    pub fn from_parts(file: LedgerConfigFile) -> Result<Self, ConfigError> {
        let l = &file.ledger;
        if l.id.is_empty() || l.id.len() > 64 {
            return Err(invalid("ledger.id must be 1-64 characters"));
        }
        let code = AssetCode::new(l.asset.clone()).map_err(|e| invalid(format!("ledger.asset: {e}")))?;
        let asset = Asset::new(code, l.scale).map_err(|e| invalid(format!("ledger.scale: {e}")))?;
        let ilp_prefix =
            Address::new(l.ilp_prefix.clone()).map_err(|e| invalid(format!("ledger.ilp_prefix: {e}")))?;
        let scale = l.scale;
        let amount =
            |what: &str, text: &str| parse_decimal(text, scale).map_err(|e| invalid(format!("{what}: {e}")));
        if file.auth.window_secs == 0 {
            return Err(invalid("auth.window_secs must be positive"));
        }
        let page = file.server.page_size;
        if !(512..=65_536).contains(&page) || !page.is_power_of_two() {
            return Err(invalid(
                "server.page_size must be a power of two from 512 to 65536",
            ));
        }
        tls::check_transport(file.server.tls.as_ref(), file.server.plain_http, "server.").map_err(invalid)?;
        if file.server.max_batch == 0 || file.server.workers == 0 {
            return Err(invalid("server.max_batch and server.workers must be positive"));
        }

        let mut keys = HashMap::new();
        let mut participants = HashSet::new();
        for p in &file.participants {
            if !participants.insert(p.id.clone()) {
                return Err(invalid(format!("participant {} listed twice", p.id)));
            }
            for k in &p.keys {
                if k.secret.len() < 16 {
                    return Err(invalid(format!("key {}: secret shorter than 16 bytes", k.id)));
                }
                let spec = KeySpec {
                    participant: p.id.clone(),
                    secret: k.secret.as_bytes().to_vec(),
                };
                if keys.insert(k.id.clone(), spec).is_some() {
                    return Err(invalid(format!("key id {} used twice", k.id)));
                }
            }
        }

        let mut accounts = Vec::new();
        let mut ids = HashSet::new();
        for a in &file.accounts {
            let id = AccountId::new(a.id.clone()).map_err(|e| invalid(e.to_string()))?;
            if !ids.insert(id.clone()) {
                return Err(invalid(format!("account {id} listed twice")));
            }
            if !participants.contains(&a.owner) {
                return Err(invalid(format!("account {id}: unknown owner {}", a.owner)));
            }
            let overdraft_limit = match &a.overdraft_limit {
                Some(t) => amount(&format!("account {id} overdraft_limit"), t)?,
                None => 0,
            };
            let opening_balance = match &a.opening_balance {
                Some(t) => amount(&format!("account {id} opening_balance"), t)?,
                None => 0,
            };
            let linked_account = a
                .linked_account
                .as_ref()
                .map(|l| AccountId::new(l.clone()).map_err(|e| invalid(e.to_string())))
                .transpose()?;
            check_kind(file.ledger.kind, a, &id)?;
            accounts.push(AccountSpec {
                terms: AccountTerms {
                    id,
                    name: a.name.clone(),
                    owner: a.owner.clone(),
                    kind: a.kind,
                    overdraft_limit,
                    tier: a.tier,
                    linked_account,
                    merchant: a.merchant,
                },
                opening_balance,
            });
        }
        for a in &accounts {
            if let Some(linked) = &a.terms.linked_account {
                let target = accounts.iter().find(|b| &b.terms.id == linked);
                match target {
                    Some(b)
                        if b.terms.kind != AccountKind::Wallet
                            && b.terms.kind != AccountKind::CentralBank => {}
                    _ => {
                        return Err(invalid(format!(
                            "account {}: linked_account {linked} must be a non-wallet account of this ledger",
                            a.terms.id
                        )));
                    }
                }
            }
        }

        let holding_limit = amount("digital_euro.holding_limit", &file.digital_euro.holding_limit)?;
        let mut tiers = BTreeMap::new();
        for (name, t) in &file.e_cny.tiers {
            let n: u8 = name
                .parse()
                .ok()
                .filter(|n| (1..=4).contains(n))
                .ok_or_else(|| invalid(format!("e_cny.tiers.{name}: tiers are 1-4")))?;
            let what = |f: &str| format!("e_cny.tiers.{name}.{f}");
            tiers.insert(
                n,
                TierLimits {
                    balance: amount(&what("balance_limit"), &t.balance_limit)?,
                    per_payment: amount(&what("per_payment_limit"), &t.per_payment_limit)?,
                    daily: amount(&what("daily_limit"), &t.daily_limit)?,
                    annual: amount(&what("annual_limit"), &t.annual_limit)?,
                },
            );
        }
        let max_supply = match &l.max_supply {
            Some(t) => amount("ledger.max_supply", t)?,
            None => MAX_LEDGER_AMOUNT,
        };
        check_money_bounds(max_supply, &accounts)?;
        if l.max_hold_ms == 0 || l.max_hold_ms > MAX_HOLD_CEILING_MS {
            return Err(invalid(format!(
                "ledger.max_hold_ms must be from 1 to {MAX_HOLD_CEILING_MS} (one year)"
            )));
        }
        if file.e_cny.utc_offset_minutes.abs() > 18 * 60 {
            return Err(invalid(
                "e_cny.utc_offset_minutes must be within ±1080 (18 hours)",
            ));
        }
        if file.ledger.kind == LedgerKind::ECny {
            for a in &accounts {
                if let Some(t) = a.terms.tier.filter(|t| !tiers.contains_key(t)) {
                    return Err(invalid(format!(
                        "account {}: no limits configured for tier {t}",
                        a.terms.id
                    )));
                }
            }
        }

        Ok(LedgerConfig {
            info: LedgerInfo {
                ledger_id: l.id.clone(),
                asset,
                ilp_prefix,
                expected_finality_ms: l.expected_finality_ms,
            },
            kind: l.kind,
            max_supply,
            max_hold_ms: l.max_hold_ms,
            server: file.server.clone(),
            auth_window_secs: file.auth.window_secs,
            webhooks: file.webhooks.clone(),
            keys,
            accounts,
            holding_limit,
            ecny_utc_offset_minutes: file.e_cny.utc_offset_minutes,
            tiers,
        })
    }

    /// The SQLite file this ledger uses.
    pub fn database_path(&self) -> PathBuf {
        self.server.database.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("cypherlink-{}.sqlite", self.info.ledger_id))
        })
    }
}

/// The supply cap and the overdrafts must stay within [`MAX_LEDGER_AMOUNT`], and the opening
/// balances (money created at first start) within the cap.
fn check_money_bounds(max_supply: u64, accounts: &[AccountSpec]) -> Result<(), ConfigError> {
    if max_supply > MAX_LEDGER_AMOUNT {
        return Err(invalid(format!(
            "ledger.max_supply exceeds the largest supply a ledger can hold ({MAX_LEDGER_AMOUNT} minor units)"
        )));
    }
    let total = |field: fn(&AccountSpec) -> u64| {
        accounts
            .iter()
            .try_fold(0u64, |sum, a| sum.checked_add(field(a)))
            .unwrap_or(u64::MAX)
    };
    let overdrafts = total(|a| a.terms.overdraft_limit);
    if overdrafts > MAX_LEDGER_AMOUNT {
        return Err(invalid(format!(
            "overdraft limits add up to {overdrafts} minor units, more than {MAX_LEDGER_AMOUNT}"
        )));
    }
    let opening = total(|a| a.opening_balance);
    if opening > max_supply {
        return Err(invalid(format!(
            "opening balances add up to {opening} minor units, more than ledger.max_supply {max_supply}"
        )));
    }
    Ok(())
}

/// Which account kinds and options make sense on which ledger.
fn check_kind(ledger: LedgerKind, a: &AccountConfig, id: &AccountId) -> Result<(), ConfigError> {
    let bad = |why: &str| Err(invalid(format!("account {id}: {why}")));
    match (ledger, a.kind) {
        (LedgerKind::Bank, AccountKind::CentralBank | AccountKind::Wallet | AccountKind::Intermediary) => {
            return bad("a bank ledger has customer and wholesale accounts only");
        }
        (LedgerKind::DigitalEuro | LedgerKind::ECny, AccountKind::Customer) => {
            return bad("a CBDC ledger has central-bank, intermediary, wholesale and wallet accounts");
        }
        _ => {}
    }
    if a.kind == AccountKind::CentralBank && a.opening_balance.is_some() {
        return bad("the central bank issues money; it does not hold an opening balance");
    }
    if a.tier.is_some() && !(ledger == LedgerKind::ECny && a.kind == AccountKind::Wallet) {
        return bad("tier applies to e-CNY wallets only");
    }
    if ledger == LedgerKind::ECny && a.kind == AccountKind::Wallet && a.tier.is_none() {
        return bad("an e-CNY wallet needs a tier (1-4)");
    }
    if (a.linked_account.is_some() || a.merchant)
        && !(ledger == LedgerKind::DigitalEuro && a.kind == AccountKind::Wallet)
    {
        return bad("linked_account and merchant apply to digital euro wallets only");
    }
    if a.merchant && a.linked_account.is_none() {
        return bad("a merchant wallet holds nothing, so it needs a linked_account to sweep to");
    }
    if a.kind == AccountKind::Wallet && a.overdraft_limit.is_some() {
        return bad("wallets have no overdraft");
    }
    Ok(())
}

/// The fixture configurations in `fixtures/`, embedded so the CLI and tests can start a ledger
/// with no files around.
pub mod fixtures {
    /// `fixtures/bank.toml`.
    pub const BANK: &str = include_str!("../../fixtures/bank.toml");
    /// `fixtures/digital-euro.toml`.
    pub const DIGITAL_EURO: &str = include_str!("../../fixtures/digital-euro.toml");
    /// `fixtures/e-cny.toml`.
    pub const E_CNY: &str = include_str!("../../fixtures/e-cny.toml");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_are_valid_and_amounts_become_minor_units() {
        let bank = LedgerConfig::from_toml(fixtures::BANK).unwrap();
        let alice = bank
            .accounts
            .iter()
            .find(|a| a.terms.id.as_str() == "alice")
            .unwrap();
        assert_eq!(
            (alice.opening_balance, alice.terms.overdraft_limit),
            (250_000, 50_000)
        );
        let de = LedgerConfig::from_toml(fixtures::DIGITAL_EURO).unwrap();
        assert_eq!(de.holding_limit, 300_000);
        let ecny = LedgerConfig::from_toml(fixtures::E_CNY).unwrap();
        assert_eq!(
            ecny.tiers[&4],
            TierLimits {
                balance: 100_000,
                per_payment: 50_000,
                daily: 100_000,
                annual: 1_000_000
            }
        );
        assert_eq!(ecny.auth_window_secs, 30, "default");
    }

    #[test]
    fn inconsistent_configs_are_refused_with_the_reason() {
        let refused = |edit: &dyn Fn(&mut LedgerConfigFile), needle: &str| {
            let err = LedgerConfig::from_toml_with(fixtures::DIGITAL_EURO, |f| edit(f)).unwrap_err();
            assert!(
                err.to_string().contains(needle),
                "{err} should mention {needle:?}"
            );
        };
        refused(&|f| f.accounts[1].owner = "nobody".into(), "unknown owner");
        refused(
            &|f| f.accounts[1].opening_balance = Some("1.001".into()),
            "more decimal places",
        );
        refused(
            &|f| f.accounts[4].linked_account = Some("wallet-ben".into()),
            "non-wallet",
        );
        refused(&|f| f.accounts[4].tier = Some(2), "e-CNY wallets only");
        refused(&|f| f.accounts[7].linked_account = None, "needs a linked_account");
        refused(
            &|f| f.digital_euro.holding_limit = "3000.000".into(),
            "holding_limit",
        );
        assert!(matches!(
            LedgerConfig::from_toml("[ledger]\nid = 1"),
            Err(ConfigError::Parse { .. })
        ));
    }
}
