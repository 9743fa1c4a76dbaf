//! Pure translations between the chain's API shapes and the [`LedgerPlugin`] vocabulary: escrow
//! views to [`Transfer`]s, feed entries to [`LedgerEvent`]s, the answers to a submission to
//! what became of it, and refusals to [`PluginError`]s. The chain's shapes arrive typed (ids,
//! `htlc`'s escrow status, conditions and fulfillments, asset codes, failure codes), so nothing
//! here parses text; no IO either, so every mapping is tested directly.
//!
//! [`LedgerPlugin`]: crate::plugin::LedgerPlugin

use htlc::{EscrowStatus, Fulfillment, Timestamp};
use ledger_node::api::client::ClientError;
use ledger_node::api::types::{EscrowView, EventView, FeedKind, ProblemCode, TxState, TxStatus};
use ledger_node::state::{AccountId as ChainAccount, AssetCode, FailCode, TxId};
use uuid::Uuid;

use crate::error::PluginError;
use crate::plugin::{AccountId, EventCursor, EventKind, LedgerEvent, PrepareTransfer, Transfer, TransferId};

/// The event kind of a feed entry, or `None` for entries that are not about escrows.
pub fn kind_of(feed_kind: FeedKind) -> Option<EventKind> {
    Some(match feed_kind {
        FeedKind::EscrowCreated => EventKind::Prepared,
        FeedKind::EscrowFulfilled => EventKind::Fulfilled,
        FeedKind::EscrowRejected => EventKind::Rejected,
        FeedKind::EscrowRefunded => EventKind::Expired,
        FeedKind::Anchored => return None,
    })
}

fn unexpected(what: String) -> PluginError {
    PluginError::Unavailable {
        reason: format!("the chain node answered something unexpected: {what}"),
    }
}

/// Block time as a timestamp; the chain's block times and expiries are all within `htlc`'s
/// years 0000-9999, so anything else is an answer to distrust.
fn time(ms: u64, what: &str) -> Result<Timestamp, PluginError> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Timestamp::from_unix_millis(ms).ok())
        .ok_or_else(|| unexpected(format!("{what} {ms}")))
}

/// A chain account as the plugin API names it: its key in hex.
pub fn account_id_of(account: &ChainAccount) -> Result<AccountId, PluginError> {
    AccountId::new(account.to_hex())
}

/// The transfer id an escrow was created with: its 16-byte reference, read as a UUID.
pub fn transfer_id_of(view: &EscrowView) -> TransferId {
    TransferId(Uuid::from_bytes(view.reference))
}

/// An escrow as the [`Transfer`] the plugin API describes. `fallback_time` stands in for a
/// block time the view lacks (it never does when read from a node).
pub fn transfer_of(view: &EscrowView, fallback_time: Timestamp) -> Result<Transfer, PluginError> {
    let prepared_at = view
        .created_at_ms
        .map_or(Ok(fallback_time), |ms| time(ms, "created_at_ms"))?;
    let finalized_at = match (view.status.is_final(), view.closed_at_ms) {
        (false, _) => None,
        (true, Some(ms)) => Some(time(ms, "closed_at_ms")?),
        (true, None) => Some(fallback_time),
    };
    Ok(Transfer {
        id: transfer_id_of(view),
        from: account_id_of(&view.payer)?,
        to: account_id_of(&view.payee)?,
        amount: view.amount,
        condition: view.condition,
        expires_at: time(view.expires_at_ms, "expires_at_ms")?,
        memo: view.memo.clone(),
        status: view.status,
        fulfillment: view.fulfillment,
        prepared_at,
        finalized_at,
        reject_reason: view.reject_reason.clone().filter(|r| !r.is_empty()),
    })
}

/// A stable event id: the same feed entry gets the same id on every node and every read.
pub fn event_id(chain_id: &[u8; 32], cursor: u64) -> Uuid {
    let mut name = Vec::with_capacity(40);
    name.extend_from_slice(chain_id);
    name.extend_from_slice(&cursor.to_be_bytes());
    Uuid::new_v5(&Uuid::NAMESPACE_OID, &name)
}

/// The escrow of a feed entry, if the entry is about an escrow in `asset` that `me` pays or
/// receives; `None` for everything else on the chain.
pub fn my_escrow<'e>(entry: &'e EventView, me: &ChainAccount, asset: &AssetCode) -> Option<&'e EscrowView> {
    kind_of(entry.kind)?;
    entry
        .escrow
        .as_ref()
        .filter(|e| &e.asset == asset && (&e.payer == me || &e.payee == me))
}

/// A feed entry as a [`LedgerEvent`], if it is about an escrow in `asset` that `me` pays or
/// receives ([`my_escrow`]); `None` for everything else on the chain.
pub fn event_of(
    entry: &EventView,
    chain_id: &[u8; 32],
    me: &ChainAccount,
    asset: &AssetCode,
) -> Result<Option<LedgerEvent>, PluginError> {
    let (Some(kind), Some(escrow)) = (kind_of(entry.kind), my_escrow(entry, me, asset)) else {
        return Ok(None);
    };
    let occurred_at = time(entry.time_ms, "event time")?;
    Ok(Some(LedgerEvent {
        cursor: EventCursor(entry.cursor),
        id: event_id(chain_id, entry.cursor),
        kind,
        transfer: transfer_of(escrow, occurred_at)?,
        occurred_at,
    }))
}

/// What a client-side failure means for the caller: a refused request is malformed, anything
/// else leaves the ledger unavailable (retry). A submission's refusal for a rule of the state
/// machine is read by [`submitted`] first.
pub fn client_error(e: ClientError) -> PluginError {
    match e {
        ClientError::Problem { status, code, detail } if status == 400 || status == 422 => {
            PluginError::Malformed {
                reason: format!("the chain refused the request ({code}): {detail}"),
            }
        }
        ClientError::Problem { status, code, detail } => PluginError::Unavailable {
            reason: format!("chain node answered {status} {code}: {detail}"),
        },
        other => PluginError::Unavailable {
            reason: format!("chain node: {other}"),
        },
    }
}

/// What became of a submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Final, and applied.
    Applied,
    /// Not final when the wait ended.
    Pending(TxId),
    /// It took no effect, for this rule of the state machine: it failed in its block, or the
    /// node refused it before its mempool (422), as admission tries the same rules.
    Refused {
        /// The rule.
        code: FailCode,
        /// In words.
        detail: String,
    },
}

/// A submission's answer as [`Submitted`]. A refusal that names no rule of the state machine
/// (a malformed request, an unknown signer, a rate limit, an outage) stays an error.
pub fn submitted(answer: Result<TxStatus, ClientError>) -> Result<Submitted, PluginError> {
    match answer {
        Ok(status) => Ok(match status.status {
            TxState::Final => Submitted::Applied,
            TxState::Pending => Submitted::Pending(status.id),
            TxState::Failed => Submitted::Refused {
                code: status.reason.ok_or_else(|| {
                    unexpected(format!("transaction {} failed without a reason", status.id))
                })?,
                detail: status.detail.unwrap_or_default(),
            },
        }),
        Err(ClientError::Problem {
            status: 422,
            code: ProblemCode::Rule(code),
            detail,
        }) => Ok(Submitted::Refused { code, detail }),
        Err(e) => Err(client_error(e)),
    }
}

/// Why the chain refused the `EscrowCreate` of `request`, as the plugin API says it (an
/// escrow that exists already is answered by the caller, which reads it). `available` is the
/// payer's balance, read by the caller for [`FailCode::InsufficientFunds`] only.
pub fn prepare_refused(
    code: FailCode,
    detail: &str,
    request: &PrepareTransfer,
    available: i128,
) -> PluginError {
    match code {
        FailCode::InsufficientFunds => PluginError::InsufficientFunds {
            account: request.from.clone(),
            needed: request.amount,
            available,
        },
        FailCode::ExpiryInPast => PluginError::Expired {
            expires_at: request.expires_at,
        },
        code => PluginError::Malformed {
            reason: format!("the chain refused the escrow ({code}): {detail}"),
        },
    }
}

/// The answer for a transfer that is already final when fulfil or reject wanted `want`: the
/// transfer if it took that very step (with this preimage, for a fulfilment), else why not.
pub fn final_answer(
    t: Transfer,
    want: EscrowStatus,
    fulfillment: Option<&Fulfillment>,
) -> Result<Transfer, PluginError> {
    match t.status {
        s if s == want && (want != EscrowStatus::Fulfilled || t.fulfillment.as_ref() == fulfillment) => Ok(t),
        EscrowStatus::Expired => Err(PluginError::Expired {
            expires_at: t.expires_at,
        }),
        status => Err(PluginError::AlreadyFinal { id: t.id, status }),
    }
}

#[cfg(test)]
mod tests {
    use ledger_node::state::EscrowId;

    use super::*;

    fn payer() -> ChainAccount {
        ChainAccount([0xaa; 32])
    }

    fn payee() -> ChainAccount {
        ChainAccount([0xbb; 32])
    }

    fn dcep() -> AssetCode {
        AssetCode::new("DC/EP").unwrap()
    }

    fn view(status: EscrowStatus) -> EscrowView {
        let prepared = status == EscrowStatus::Prepared;
        EscrowView {
            id: EscrowId([0x11; 32]),
            payer: payer(),
            payee: payee(),
            asset: dcep(),
            amount: 2_000,
            condition: Fulfillment::from_bytes([7; 32]).condition(),
            expires_at_ms: 1_700_000_030_000,
            memo: b"ilp".to_vec(),
            reference: [0x0f; 16],
            status,
            fulfillment: (status == EscrowStatus::Fulfilled).then(|| Fulfillment::from_bytes([7; 32])),
            created_height: 5,
            closed_height: (!prepared).then_some(6),
            reject_reason: (status == EscrowStatus::Rejected).then(|| "F05 wrong condition".into()),
            created_at_ms: Some(1_700_000_000_000),
            closed_at_ms: (!prepared).then_some(1_700_000_001_000),
        }
    }

    #[test]
    fn an_escrow_reads_as_the_transfer_it_was_prepared_as() {
        let t = transfer_of(
            &view(EscrowStatus::Prepared),
            Timestamp::from_unix_millis(0).unwrap(),
        )
        .unwrap();
        assert_eq!(t.id, TransferId(Uuid::from_bytes([0x0f; 16])));
        assert_eq!(
            (t.from.as_str(), t.to.as_str()),
            ("aa".repeat(32).as_str(), "bb".repeat(32).as_str())
        );
        assert_eq!(t.amount, 2_000);
        assert_eq!(t.condition, Fulfillment::from_bytes([7; 32]).condition());
        assert_eq!(t.expires_at.unix_millis(), 1_700_000_030_000);
        assert_eq!(t.memo, b"ilp");
        assert_eq!(t.status, EscrowStatus::Prepared);
        assert_eq!(t.prepared_at.unix_millis(), 1_700_000_000_000);
        assert_eq!(
            (t.fulfillment, t.finalized_at, t.reject_reason),
            (None, None, None)
        );
    }

    #[test]
    fn final_escrows_carry_their_preimage_or_reason_and_time() {
        let zero = Timestamp::from_unix_millis(0).unwrap();
        let done = transfer_of(&view(EscrowStatus::Fulfilled), zero).unwrap();
        assert_eq!(done.fulfillment, Some(Fulfillment::from_bytes([7; 32])));
        assert_eq!(done.finalized_at.unwrap().unix_millis(), 1_700_000_001_000);
        let rejected = transfer_of(&view(EscrowStatus::Rejected), zero).unwrap();
        assert_eq!(rejected.reject_reason.as_deref(), Some("F05 wrong condition"));
        assert_eq!(
            transfer_of(&view(EscrowStatus::Expired), zero).unwrap().status,
            EscrowStatus::Expired
        );
        let mut beyond = view(EscrowStatus::Prepared);
        beyond.expires_at_ms = u64::MAX;
        assert!(matches!(
            transfer_of(&beyond, zero),
            Err(PluginError::Unavailable { .. })
        ));
    }

    #[test]
    fn the_chain_json_reads_as_the_same_transfer() {
        // What a node answers: the typed view is read from it once, by serde, and converted
        // without parsing anything again.
        let json = serde_json::to_string(&view(EscrowStatus::Fulfilled)).unwrap();
        assert!(json.contains(r#""status":"fulfilled""#), "{json}");
        assert!(json.contains(r#""asset":"DC/EP""#), "{json}");
        let read: EscrowView = serde_json::from_str(&json).unwrap();
        let zero = Timestamp::from_unix_millis(0).unwrap();
        assert_eq!(
            transfer_of(&read, zero).unwrap(),
            transfer_of(&view(EscrowStatus::Fulfilled), zero).unwrap()
        );
        let melted = json.replace(r#""status":"fulfilled""#, r#""status":"melted""#);
        assert!(serde_json::from_str::<EscrowView>(&melted).is_err());
    }

    #[test]
    fn only_escrow_events_of_my_accounts_in_my_asset_are_mine() {
        let entry = |kind: FeedKind, escrow: EscrowView| EventView {
            cursor: 9,
            height: 6,
            time_ms: 1_700_000_001_000,
            tx_id: TxId([0; 32]),
            kind,
            escrow: Some(escrow),
            anchor: None,
        };
        let chain = [1; 32];
        let fulfilled = entry(FeedKind::EscrowFulfilled, view(EscrowStatus::Fulfilled));
        let e = event_of(&fulfilled, &chain, &payee(), &dcep())
            .unwrap()
            .expect("mine");
        assert_eq!((e.cursor, e.kind), (EventCursor(9), EventKind::Fulfilled));
        assert_eq!(e.id, event_id(&chain, 9), "ids are stable");
        assert_ne!(event_id(&chain, 9), event_id(&chain, 10));
        assert_eq!(e.occurred_at.unix_millis(), 1_700_000_001_000);
        let created = entry(FeedKind::EscrowCreated, view(EscrowStatus::Prepared));
        assert!(event_of(&created, &chain, &payer(), &dcep()).unwrap().is_some());
        let stranger = ChainAccount([0xcc; 32]);
        assert!(event_of(&created, &chain, &stranger, &dcep()).unwrap().is_none());
        let eur = AssetCode::new("EUR").unwrap();
        assert!(event_of(&created, &chain, &payee(), &eur).unwrap().is_none());
        let anchored = entry(FeedKind::Anchored, view(EscrowStatus::Prepared));
        assert!(event_of(&anchored, &chain, &payee(), &dcep()).unwrap().is_none());
        let kinds: Vec<_> = FeedKind::ALL.into_iter().map(kind_of).collect();
        assert_eq!(
            kinds,
            [
                Some(EventKind::Prepared),
                Some(EventKind::Fulfilled),
                Some(EventKind::Rejected),
                Some(EventKind::Expired),
                None
            ]
        );
    }

    fn problem(status: u16, code: &str) -> ClientError {
        ClientError::Problem {
            status,
            code: code.parse().unwrap(),
            detail: "no".into(),
        }
    }

    #[test]
    fn refused_requests_are_malformed_and_outages_retryable() {
        let refused = client_error(problem(422, "unknown_signer"));
        assert!(matches!(refused, PluginError::Malformed { .. }));
        assert!(!refused.is_retryable());
        assert!(client_error(problem(503, "unavailable")).is_retryable());
        assert!(client_error(problem(429, "rate_limited")).is_retryable());
    }

    #[test]
    fn a_submission_ends_applied_pending_or_refused_for_a_rule() {
        let mut status = TxStatus::pending(TxId([3; 32]));
        assert_eq!(
            submitted(Ok(status.clone())),
            Ok(Submitted::Pending(TxId([3; 32])))
        );
        status.status = TxState::Final;
        assert_eq!(submitted(Ok(status.clone())), Ok(Submitted::Applied));
        status.status = TxState::Failed;
        status.reason = Some(FailCode::WrongFulfillment);
        status.detail = Some("fulfillment does not match the condition".into());
        assert_eq!(
            submitted(Ok(status.clone())),
            Ok(Submitted::Refused {
                code: FailCode::WrongFulfillment,
                detail: "fulfillment does not match the condition".into()
            })
        );
        status.reason = None;
        assert!(submitted(Ok(status)).unwrap_err().is_retryable());
        // Admission tries the same rules before the mempool: its 422 reads as the rule.
        for (code, rule) in [
            ("nonce_reused", FailCode::NonceReused),
            ("insufficient_funds", FailCode::InsufficientFunds),
            ("bad_signature", FailCode::BadSignature),
        ] {
            assert_eq!(
                submitted(Err(problem(422, code))),
                Ok(Submitted::Refused {
                    code: rule,
                    detail: "no".into()
                })
            );
        }
        assert_eq!(
            problem(422, "insufficient_funds").to_string(),
            "422 insufficient_funds: no"
        );
        for (status, code) in [(422, "unknown_signer"), (400, "malformed"), (429, "rate_limited")] {
            assert!(submitted(Err(problem(status, code))).is_err(), "{code}");
        }
        assert!(matches!(
            problem(422, "something_new"),
            ClientError::Problem {
                code: ProblemCode::Other(_),
                ..
            }
        ));
    }

    fn request() -> PrepareTransfer {
        PrepareTransfer {
            id: TransferId(Uuid::from_bytes([0x0f; 16])),
            from: account_id_of(&payer()).unwrap(),
            to: account_id_of(&payee()).unwrap(),
            amount: 2_000,
            condition: Fulfillment::from_bytes([7; 32]).condition(),
            expires_at: Timestamp::from_unix_millis(1_700_000_030_000).unwrap(),
            memo: b"ilp".to_vec(),
        }
    }

    #[test]
    fn an_escrow_refused_for_want_of_funds_is_insufficient_funds() {
        // Whether admission refused it (422, the payer holds none of the asset) or its block
        // failed it: the connector sees the same insufficient funds as on any ledger.
        let Ok(Submitted::Refused { code, detail }) = submitted(Err(problem(422, "insufficient_funds")))
        else {
            panic!("a rule");
        };
        let err = prepare_refused(code, &detail, &request(), 0);
        assert_eq!(
            err,
            PluginError::InsufficientFunds {
                account: request().from,
                needed: 2_000,
                available: 0
            }
        );
        assert_eq!(err.code(), "insufficient_funds");
        assert_eq!(
            prepare_refused(FailCode::ExpiryInPast, "", &request(), 0),
            PluginError::Expired {
                expires_at: request().expires_at
            }
        );
        assert!(matches!(
            prepare_refused(FailCode::ExpiryTooFar, "", &request(), 0),
            PluginError::Malformed { .. }
        ));
    }

    #[test]
    fn a_final_transfer_answers_a_repeat_and_refuses_the_other_steps() {
        let zero = Timestamp::from_unix_millis(0).unwrap();
        let pre = Fulfillment::from_bytes([7; 32]);
        let done = transfer_of(&view(EscrowStatus::Fulfilled), zero).unwrap();
        let other = Fulfillment::from_bytes([8; 32]);
        let answer = |t: &Transfer, want, f| final_answer(t.clone(), want, f);
        assert_eq!(
            answer(&done, EscrowStatus::Fulfilled, Some(&pre)),
            Ok(done.clone())
        );
        assert!(matches!(
            answer(&done, EscrowStatus::Fulfilled, Some(&other)),
            Err(PluginError::AlreadyFinal { .. })
        ));
        assert!(matches!(
            answer(&done, EscrowStatus::Rejected, None),
            Err(PluginError::AlreadyFinal {
                status: EscrowStatus::Fulfilled,
                ..
            })
        ));
        let rejected = transfer_of(&view(EscrowStatus::Rejected), zero).unwrap();
        assert_eq!(
            answer(&rejected, EscrowStatus::Rejected, None),
            Ok(rejected.clone())
        );
        let expired = transfer_of(&view(EscrowStatus::Expired), zero).unwrap();
        assert!(matches!(
            answer(&expired, EscrowStatus::Fulfilled, Some(&pre)),
            Err(PluginError::Expired { .. })
        ));
    }
}
