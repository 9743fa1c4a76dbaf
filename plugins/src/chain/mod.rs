//! [`ChainPlugin`]: the committee chain as a [`LedgerPlugin`] (feature `chain`).
//!
//! The plugin acts for one chain account (it holds the account's Ed25519 key) in one asset
//! (e.g. DC/EP issued on the chain by the central bank), through a node's HTTP API
//! ([`ChainClient`]):
//!
//! - `prepare` signs an `EscrowCreate` whose 16-byte reference is the transfer id, so the
//!   escrow id is known before submitting and a retry finds the escrow instead of locking twice;
//!   it answers once the escrow is final on the chain (committed with a quorum certificate).
//! - `fulfill` and `reject` act on escrows paying this account, found by their reference.
//! - The event log is the chain's feed, filtered to escrows of this account in this asset;
//!   cursors are the feed's, the same on every node, so a follower can switch nodes.
//! - Expiry: the chain refunds nothing by itself; anyone may refund an expired escrow. The
//!   payer's plugin does it for its own escrows: [`ChainPlugin::refund_expired`], run
//!   periodically by [`ChainPlugin::spawn_refunder`]. The refund is what the `expired` event
//!   reports, as on the other ledgers.
//!
//! An account counts as existing on the chain once it has signed a transaction or held funds;
//! preparing to any other account is refused as unknown, since money locked for a mistyped key
//! could only come back at the expiry. [`convert`] holds the pure translations.

pub mod convert;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
pub use ed25519_dalek::SigningKey;
use futures::StreamExt;
use htlc::{Address, Asset, AssetCode, Clock, EscrowStatus, Fulfillment, SystemClock, Timestamp};
use ledger_node::api::types::EscrowView;
use ledger_node::api::{ChainClient, Signer};
use ledger_node::state::{AccountId as ChainAccount, EscrowId, FailCode, Op, account_of};

use crate::error::PluginError;
use crate::plugin::{
    AccountId, Balance, EventCursor, EventPage, LedgerInfo, LedgerPlugin, MAX_MEMO_LEN,
    MAX_REJECT_REASON_LEN, PrepareTransfer, Transfer, TransferId,
};
use convert::{
    Submitted, client_error, event_of, final_answer, my_escrow, prepare_refused, submitted, transfer_id_of,
    transfer_of,
};

/// Refunds one [`ChainPlugin::refund_expired`] round keeps waiting for at once: well inside
/// the chain's nonce window (64), leaving room for the plugin's other transactions.
const REFUNDS_IN_FLIGHT: usize = 16;

/// How to reach the chain and whom to act for.
#[derive(Clone)]
pub struct ChainPluginConfig {
    /// A node's API, e.g. `http://127.0.0.1:7500`.
    pub node_url: String,
    /// The account's key.
    pub key: SigningKey,
    /// The asset this plugin moves (its code on the chain, e.g. `DC/EP`).
    pub asset: AssetCode,
    /// The ledger id the connector knows this ledger by.
    pub ledger_id: String,
    /// ILP address prefix of accounts reached through this ledger.
    pub ilp_prefix: Address,
    /// Time from submission to finality the connector plans with (ms).
    pub expected_finality_ms: u64,
    /// How long a call waits for its transaction to be final before answering "unavailable"
    /// (a retry is safe: the transfer id makes `prepare` idempotent).
    pub finality_timeout: Duration,
    /// For an `https://` node: the CA to trust (default: the system's) and, for mutual TLS,
    /// the client certificate.
    pub tls: Option<tls::ClientTls>,
}

/// An account key from its 32-byte Ed25519 seed written as 64 hex characters (how
/// configuration files hold it).
pub fn signing_key_from_hex(text: &str) -> Result<SigningKey, PluginError> {
    hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(|seed| SigningKey::from_bytes(&seed))
        .ok_or_else(|| PluginError::Malformed {
            reason: "a chain account key is an Ed25519 seed of 64 hex characters".into(),
        })
}

impl std::fmt::Debug for ChainPluginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainPluginConfig")
            .field("node_url", &self.node_url)
            .field("account", &account_of(&self.key).to_hex())
            .field("asset", &self.asset)
            .field("ledger_id", &self.ledger_id)
            .finish()
    }
}

/// A [`LedgerPlugin`] over the committee chain for one account and one asset.
pub struct ChainPlugin {
    client: ChainClient,
    key: SigningKey,
    signer: Mutex<Signer>,
    chain_id: [u8; 32],
    me: ChainAccount,
    me_id: AccountId,
    asset: AssetCode,
    info: LedgerInfo,
    clock: Arc<dyn Clock>,
    finality_timeout: Duration,
    /// Accounts seen to exist (they never stop existing).
    known: Mutex<HashSet<ChainAccount>>,
    /// Payers of open incoming escrows seen in the feed, by transfer id: which escrow a
    /// `fulfill(id)` means if another payer reused the reference.
    incoming: Mutex<HashMap<TransferId, ChainAccount>>,
}

impl std::fmt::Debug for ChainPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainPlugin")
            .field("node", &self.client.base_url())
            .field("account", &self.me_id)
            .field("asset", &self.asset.as_str())
            .finish()
    }
}

/// A transaction's committed result.
enum Applied {
    Ok,
    /// It took no effect, for this rule (see [`Submitted::Refused`]).
    Failed {
        code: FailCode,
        detail: String,
    },
}

/// How the payee finishes an escrow paid to it.
enum Finish {
    /// Claim it with the preimage.
    Fulfil(Fulfillment),
    /// Send it back, saying why.
    Reject(String),
}

impl Finish {
    /// The status the escrow reaches.
    fn status(&self) -> EscrowStatus {
        match self {
            Finish::Fulfil(_) => EscrowStatus::Fulfilled,
            Finish::Reject(_) => EscrowStatus::Rejected,
        }
    }

    fn fulfillment(&self) -> Option<Fulfillment> {
        match self {
            Finish::Fulfil(fulfillment) => Some(*fulfillment),
            Finish::Reject(_) => None,
        }
    }

    /// The act's name in a refusal's message.
    fn name(&self) -> &'static str {
        match self {
            Finish::Fulfil(_) => "fulfilment",
            Finish::Reject(_) => "reject",
        }
    }

    fn op(self, escrow: EscrowId) -> Op {
        match self {
            Finish::Fulfil(fulfillment) => Op::EscrowFulfill { escrow, fulfillment },
            Finish::Reject(reason) => Op::EscrowReject { escrow, reason },
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ChainPlugin {
    /// Connects with the machine's clock.
    pub async fn connect(config: ChainPluginConfig) -> Result<Self, PluginError> {
        Self::connect_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Connects: reads the chain id, the account's nonce and the asset's scale. `clock` decides
    /// when escrows have expired (for refunds and early refusals); the chain's block time has
    /// the last word.
    pub async fn connect_with_clock(
        config: ChainPluginConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PluginError> {
        let client = ChainClient::new(config.node_url.clone());
        let client = match &config.tls {
            Some(tls) => client.with_tls(tls).map_err(client_error)?,
            None => client,
        };
        let chain_id = client.chain_id().await.map_err(client_error)?;
        let me = account_of(&config.key);
        let nonce = client.account(&me).await.map_err(client_error)?.nonce;
        let asset_view = client
            .asset(&config.asset)
            .await
            .map_err(client_error)?
            .ok_or_else(|| PluginError::Unsupported {
                what: format!("asset {} does not exist on the chain", config.asset),
            })?;
        let ledger_asset =
            Asset::new(config.asset.clone(), asset_view.scale).map_err(|e| PluginError::Malformed {
                reason: format!("asset {}: {e}", config.asset),
            })?;
        Ok(Self {
            signer: Mutex::new(Signer::new(config.key.clone(), chain_id, nonce)),
            key: config.key,
            client,
            chain_id,
            me,
            me_id: convert::account_id_of(&me)?,
            asset: config.asset,
            info: LedgerInfo {
                ledger_id: config.ledger_id,
                asset: ledger_asset,
                ilp_prefix: config.ilp_prefix,
                expected_finality_ms: config.expected_finality_ms,
            },
            clock,
            finality_timeout: config.finality_timeout,
            known: Mutex::new(HashSet::from([me])),
            incoming: Mutex::new(HashMap::new()),
        })
    }

    /// The account this plugin acts for, as the plugin API writes it (64 hex characters).
    pub fn account(&self) -> &AccountId {
        &self.me_id
    }

    /// Refunds this account's escrows whose expiry has passed (by the plugin's clock; one the
    /// chain's block time has not reached yet stays for the next round). Returns how many
    /// were refunded.
    ///
    /// Up to [`REFUNDS_IN_FLIGHT`] refunds wait for finality at once, so a receiver that went
    /// offline with many payments pending gets them all back within a few blocks, not one
    /// block per escrow. A round whose refunds all failed returns the first error; partial
    /// failures are logged and retried next round.
    pub async fn refund_expired(&self) -> Result<usize, PluginError> {
        let now = self.clock.now();
        let due: Vec<EscrowId> = self
            .client
            .open_escrows(&self.me, 1000)
            .await
            .map_err(client_error)?
            .into_iter()
            .filter(|e| {
                e.asset == self.asset
                    && u64::try_from(now.unix_millis()).is_ok_and(|now| now >= e.expires_at_ms)
            })
            .map(|e| e.id)
            .collect();
        let outcomes: Vec<(EscrowId, Result<Applied, PluginError>)> = futures::stream::iter(due)
            .map(|id| async move { (id, self.submit(Op::EscrowRefund { escrow: id }).await) })
            .buffer_unordered(REFUNDS_IN_FLIGHT)
            .collect()
            .await;
        let mut refunded = 0;
        let mut first_error = None;
        for (id, outcome) in outcomes {
            match outcome {
                Ok(Applied::Ok) => refunded += 1,
                Ok(Applied::Failed { code, detail }) => {
                    tracing::debug!(escrow = %id, %code, %detail, "refund not applied");
                }
                Err(e) => {
                    tracing::warn!(escrow = %id, error = %e, "refund failed; retried next round");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if refunded == 0 => Err(e),
            _ => Ok(refunded),
        }
    }

    /// Runs [`ChainPlugin::refund_expired`] every `period` until the task is aborted.
    pub fn spawn_refunder(self: &Arc<Self>, period: Duration) -> tokio::task::JoinHandle<()> {
        let plugin = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                match plugin.refund_expired().await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(ledger = %plugin.info.ledger_id, refunded = n, "refunded expired escrows")
                    }
                    Err(e) => {
                        tracing::warn!(ledger = %plugin.info.ledger_id, error = %e, "refund round failed")
                    }
                }
            }
        })
    }

    /// Signs `op` and waits until it is final. A nonce that lost a race (another
    /// transaction of this account took it, or it fell out of the window) is retried with a
    /// fresh one, whether admission refused it or its block failed it; such a failure moved
    /// nothing.
    async fn submit(&self, op: Op) -> Result<Applied, PluginError> {
        for _ in 0..4 {
            let tx = lock(&self.signer).sign(op.clone());
            match submitted(self.client.submit_and_wait(&tx, self.finality_timeout).await)? {
                Submitted::Applied => return Ok(Applied::Ok),
                Submitted::Refused {
                    code: FailCode::NonceReused,
                    ..
                } => self.resync_nonce().await?,
                Submitted::Refused { code, detail } => return Ok(Applied::Failed { code, detail }),
                Submitted::Pending(id) => {
                    return Err(PluginError::Unavailable {
                        reason: format!(
                            "transaction {id} not final after {:?}; retrying is safe",
                            self.finality_timeout
                        ),
                    });
                }
            }
        }
        Err(PluginError::Unavailable {
            reason: "could not find a fresh nonce for the account".into(),
        })
    }

    /// Moves the next nonce past the account's committed one.
    async fn resync_nonce(&self) -> Result<(), PluginError> {
        let committed = self.client.account(&self.me).await.map_err(client_error)?.nonce;
        let mut signer = lock(&self.signer);
        let last = committed.max(signer.next_nonce().saturating_sub(1));
        *signer = Signer::new(self.key.clone(), self.chain_id, last);
        Ok(())
    }

    fn chain_account(&self, account: &AccountId) -> Result<ChainAccount, PluginError> {
        ChainAccount::from_hex(account.as_str()).ok_or_else(|| PluginError::UnknownAccount {
            account: account.clone(),
        })
    }

    /// Whether `account` has ever signed or held anything on the chain.
    async fn exists(&self, account: &ChainAccount) -> Result<bool, PluginError> {
        if lock(&self.known).contains(account) {
            return Ok(true);
        }
        let view = self.client.account(account).await.map_err(client_error)?;
        let exists = view.nonce > 0 || !view.balances.is_empty();
        if exists {
            lock(&self.known).insert(*account);
        }
        Ok(exists)
    }

    async fn escrow(&self, id: &EscrowId) -> Result<Option<EscrowView>, PluginError> {
        self.client.escrow(id).await.map_err(client_error)
    }

    fn to_transfer(&self, view: &EscrowView) -> Result<Transfer, PluginError> {
        transfer_of(view, self.clock.now())
    }

    /// This account's outgoing escrow for transfer `id`.
    async fn outgoing(&self, id: TransferId) -> Result<Option<EscrowView>, PluginError> {
        self.escrow(&EscrowId::derive(&self.me, id.0.as_bytes())).await
    }

    /// The escrow paying this account for transfer `id`. References are chosen by payers, so
    /// two payers could use the same one; the payer seen in the feed decides, else the one
    /// still open.
    async fn incoming(&self, id: TransferId) -> Result<EscrowView, PluginError> {
        let mut found: Vec<EscrowView> = self
            .client
            .escrows_by_reference(id.0.as_bytes())
            .await
            .map_err(client_error)?
            .into_iter()
            .filter(|e| e.payee == self.me && e.asset == self.asset)
            .collect();
        let seen_payer = lock(&self.incoming).get(&id).copied();
        if let (true, Some(payer)) = (found.len() > 1, seen_payer) {
            found.retain(|e| e.payer == payer);
        }
        if found.len() > 1 {
            found.retain(|e| e.status == EscrowStatus::Prepared);
        }
        match found.len() {
            0 => Err(PluginError::UnknownTransfer { id }),
            1 => Ok(found.remove(0)),
            n => Err(PluginError::Malformed {
                reason: format!("{n} open escrows pay this account under transfer id {id}"),
            }),
        }
    }

    /// What a repeated prepare answers: the first transfer if the terms match.
    fn same_terms(&self, existing: &EscrowView, request: &PrepareTransfer) -> Result<Transfer, PluginError> {
        let t = self.to_transfer(existing)?;
        let same = t.to == request.to
            && t.amount == request.amount
            && t.condition == request.condition
            && t.expires_at == request.expires_at
            && t.memo == request.memo;
        if same {
            Ok(t)
        } else {
            Err(PluginError::Duplicate {
                reason: format!("transfer {} was prepared with other terms", request.id),
            })
        }
    }

    fn expired_by_clock(&self, expires_at: Timestamp) -> bool {
        self.clock.now() >= expires_at
    }

    /// Fulfils or rejects the escrow paying this account for transfer `id`, answering as the
    /// plugin contract asks: an escrow already final as [`final_answer`] says, a wrong preimage
    /// or an expired escrow refused, else the escrow as the chain then shows it.
    async fn finish_incoming(&self, id: TransferId, finish: Finish) -> Result<Transfer, PluginError> {
        let view = self.incoming(id).await?;
        let t = self.to_transfer(&view)?;
        let (status, fulfillment, name) = (finish.status(), finish.fulfillment(), finish.name());
        if t.status.is_final() {
            return final_answer(t, status, fulfillment.as_ref());
        }
        if fulfillment.is_some_and(|f| f.condition() != t.condition) {
            return Err(PluginError::WrongCondition { id });
        }
        let expired = || PluginError::Expired {
            expires_at: t.expires_at,
        };
        if self.expired_by_clock(t.expires_at) {
            return Err(expired());
        }
        match self.submit(finish.op(view.id)).await? {
            Applied::Ok => self.reread(&view).await,
            Applied::Failed { code, detail } => match code {
                FailCode::WrongFulfillment if fulfillment.is_some() => {
                    Err(PluginError::WrongCondition { id })
                }
                FailCode::EscrowExpired => Err(expired()),
                FailCode::EscrowFinal => {
                    final_answer(self.reread(&view).await?, status, fulfillment.as_ref())
                }
                code => Err(PluginError::Malformed {
                    reason: format!("the chain refused the {name} ({code}): {detail}"),
                }),
            },
        }
    }

    async fn reread(&self, view: &EscrowView) -> Result<Transfer, PluginError> {
        let fresh = self
            .escrow(&view.id)
            .await?
            .ok_or_else(|| PluginError::Unavailable {
                reason: format!("escrow {} vanished from the node", view.id),
            })?;
        self.to_transfer(&fresh)
    }
}

#[async_trait]
impl LedgerPlugin for ChainPlugin {
    fn info(&self) -> &LedgerInfo {
        &self.info
    }

    async fn prepare(&self, request: PrepareTransfer) -> Result<Transfer, PluginError> {
        if request.from != self.me_id {
            let from = self.chain_account(&request.from)?;
            return Err(if self.exists(&from).await? {
                PluginError::Forbidden {
                    reason: format!("this plugin signs for {} only", self.me_id),
                }
            } else {
                PluginError::UnknownAccount {
                    account: request.from,
                }
            });
        }
        let payee = self.chain_account(&request.to)?;
        if payee == self.me {
            return Err(PluginError::Malformed {
                reason: "payer and payee are the same account".into(),
            });
        }
        if request.amount == 0 || request.memo.len() > MAX_MEMO_LEN {
            return Err(PluginError::Malformed {
                reason: format!(
                    "amount must be positive and the memo at most {MAX_MEMO_LEN} bytes (got {} and {})",
                    request.amount,
                    request.memo.len()
                ),
            });
        }
        if self.expired_by_clock(request.expires_at) {
            // A retry of a prepare that went through answers like the first time.
            return match self.outgoing(request.id).await? {
                Some(existing) => self.same_terms(&existing, &request),
                None => Err(PluginError::Expired {
                    expires_at: request.expires_at,
                }),
            };
        }
        if !self.exists(&payee).await? {
            return Err(PluginError::UnknownAccount { account: request.to });
        }
        let op = Op::EscrowCreate {
            reference: *request.id.0.as_bytes(),
            asset: self.asset.clone(),
            payee,
            amount: request.amount,
            condition: request.condition,
            expires_at_ms: u64::try_from(request.expires_at.unix_millis()).unwrap_or(0),
            memo: request.memo.clone(),
        };
        let applied = self.submit(op).await?;
        let existing = self.outgoing(request.id).await?;
        match (applied, existing) {
            (Applied::Ok, Some(view)) => self.to_transfer(&view),
            (
                Applied::Failed {
                    code: FailCode::EscrowExists,
                    ..
                },
                Some(view),
            ) => self.same_terms(&view, &request),
            (Applied::Failed { code, detail }, _) => {
                let available = match code {
                    FailCode::InsufficientFunds => self.balance(&self.me_id).await.map_or(0, |b| b.available),
                    _ => 0,
                };
                Err(prepare_refused(code, &detail, &request, available))
            }
            (Applied::Ok, None) => Err(PluginError::Unavailable {
                reason: "the escrow is final but the node does not show it yet".into(),
            }),
        }
    }

    async fn fulfill(&self, id: TransferId, fulfillment: Fulfillment) -> Result<Transfer, PluginError> {
        self.finish_incoming(id, Finish::Fulfil(fulfillment)).await
    }

    async fn reject(&self, id: TransferId, reason: Option<String>) -> Result<Transfer, PluginError> {
        let reason = reason.unwrap_or_default();
        if reason.len() > MAX_REJECT_REASON_LEN {
            return Err(PluginError::Malformed {
                reason: format!("reject reason longer than {MAX_REJECT_REASON_LEN} bytes"),
            });
        }
        self.finish_incoming(id, Finish::Reject(reason)).await
    }

    async fn transfer(&self, id: TransferId) -> Result<Transfer, PluginError> {
        match self.outgoing(id).await? {
            Some(view) => self.to_transfer(&view),
            None => self.to_transfer(&self.incoming(id).await?),
        }
    }

    async fn balance(&self, account: &AccountId) -> Result<Balance, PluginError> {
        let chain_account = self.chain_account(account)?;
        let view = self.client.account(&chain_account).await.map_err(client_error)?;
        if view.nonce == 0 && view.balances.is_empty() {
            return Err(PluginError::UnknownAccount {
                account: account.clone(),
            });
        }
        let mine = view.balances.iter().find(|b| b.asset == self.asset);
        Ok(Balance {
            account: account.clone(),
            available: mine.map_or(0, |b| i128::from(b.amount)),
            held: mine.map_or(0, |b| b.held),
            overdraft_limit: 0,
        })
    }

    async fn head(&self) -> Result<EventCursor, PluginError> {
        let status = self.client.status().await.map_err(client_error)?;
        Ok(EventCursor(status.last_event))
    }

    async fn events(&self, after: EventCursor, limit: u32, wait: Duration) -> Result<EventPage, PluginError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut cursor = after.0;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let page = self
                .client
                .events(cursor, limit.clamp(1, 1000), left)
                .await
                .map_err(client_error)?;
            let mut mine = Vec::new();
            for entry in &page.events {
                if let Some(event) = event_of(entry, &self.chain_id, &self.me, &self.asset)? {
                    mine.push(event);
                }
                if let Some(escrow) = my_escrow(entry, &self.me, &self.asset) {
                    self.remember_payer(escrow);
                }
            }
            let next = page.next.max(cursor);
            // Pages of other accounts' events are skipped within the wait.
            if !mine.is_empty() || page.events.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(EventPage {
                    events: mine,
                    next: EventCursor(next),
                });
            }
            cursor = next;
        }
    }
}

impl ChainPlugin {
    /// Keeps the payer of an open escrow paying this account (forgets it once final).
    fn remember_payer(&self, escrow: &EscrowView) {
        if escrow.payee != self.me {
            return;
        }
        let mut incoming = lock(&self.incoming);
        if escrow.status.is_final() {
            incoming.remove(&transfer_id_of(escrow));
        } else {
            incoming.insert(transfer_id_of(escrow), escrow.payer);
        }
    }
}
