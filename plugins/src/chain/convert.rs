//! Pure translations between the chain's API shapes and the [`LedgerPlugin`] vocabulary: escrow
//! views to [`Transfer`]s, feed entries to [`LedgerEvent`]s, failed transactions and client
//! errors to [`PluginError`]s. No IO, so every mapping is tested directly.
//!
//! [`LedgerPlugin`]: crate::plugin::LedgerPlugin

use base64::Engine as _;
use htlc::{Condition, EscrowStatus, Fulfillment, Timestamp};
use ledger_node::api::client::ClientError;
use ledger_node::api::types::{EscrowView, EventView, TxStatus};
use uuid::Uuid;

use crate::error::PluginError;
use crate::plugin::{AccountId, EventCursor, EventKind, LedgerEvent, Transfer, TransferId};

/// The chain's escrow status name as an [`EscrowStatus`]. The chain calls a refunded escrow
/// `expired`, as the ledger API does.
pub fn status_of(name: &str) -> Result<EscrowStatus, PluginError> {
    Ok(match name {
        "prepared" => EscrowStatus::Prepared,
        "fulfilled" => EscrowStatus::Fulfilled,
        "rejected" => EscrowStatus::Rejected,
        "expired" => EscrowStatus::Expired,
        other => return Err(unexpected(format!("escrow status {other:?}"))),
    })
}

/// The event kind of a feed entry, or `None` for entries that are not about escrows.
pub fn kind_of(feed_kind: &str) -> Option<EventKind> {
    Some(match feed_kind {
        "escrow_created" => EventKind::Prepared,
        "escrow_fulfilled" => EventKind::Fulfilled,
        "escrow_rejected" => EventKind::Rejected,
        "escrow_refunded" => EventKind::Expired,
        _ => return None,
    })
}

fn unexpected(what: String) -> PluginError {
    PluginError::Unavailable {
        reason: format!("the chain node answered something unexpected: {what}"),
    }
}

fn time(ms: u64, what: &str) -> Result<Timestamp, PluginError> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Timestamp::from_unix_millis(ms).ok())
        .ok_or_else(|| unexpected(format!("{what} {ms}")))
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32], PluginError> {
    hex::decode(text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| unexpected(format!("{what} {text:?}")))
}

/// The transfer id an escrow was created with: its 16-byte reference, read as a UUID.
pub fn transfer_id_of(view: &EscrowView) -> Result<TransferId, PluginError> {
    hex::decode(&view.reference)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(|b| TransferId(Uuid::from_bytes(b)))
        .ok_or_else(|| unexpected(format!("escrow reference {:?}", view.reference)))
}

/// An escrow as the [`Transfer`] the plugin API describes. `fallback_time` stands in for a
/// block time the view lacks (it never does when read from a node).
pub fn transfer_of(view: &EscrowView, fallback_time: Timestamp) -> Result<Transfer, PluginError> {
    let memo = base64::engine::general_purpose::STANDARD
        .decode(&view.memo)
        .map_err(|_| unexpected("escrow memo".into()))?;
    let status = status_of(&view.status)?;
    let fulfillment = view
        .fulfillment
        .as_deref()
        .map(|f| hex32(f, "fulfillment").map(Fulfillment::from_bytes))
        .transpose()?;
    let prepared_at = view
        .created_at_ms
        .map_or(Ok(fallback_time), |ms| time(ms, "created_at_ms"))?;
    let finalized_at = match (status.is_final(), view.closed_at_ms) {
        (false, _) => None,
        (true, Some(ms)) => Some(time(ms, "closed_at_ms")?),
        (true, None) => Some(fallback_time),
    };
    Ok(Transfer {
        id: transfer_id_of(view)?,
        from: AccountId::new(view.payer.as_str())?,
        to: AccountId::new(view.payee.as_str())?,
        amount: view.amount,
        condition: Condition::from_bytes(hex32(&view.condition, "condition")?),
        expires_at: time(view.expires_at_ms, "expires_at_ms")?,
        memo,
        status,
        fulfillment,
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

/// A feed entry as a [`LedgerEvent`], if it is about an escrow in `asset` that `me` pays or
/// receives; `None` for everything else on the chain.
pub fn event_of(
    entry: &EventView,
    chain_id: &[u8; 32],
    me: &str,
    asset: &str,
) -> Result<Option<LedgerEvent>, PluginError> {
    let (Some(kind), Some(escrow)) = (kind_of(&entry.kind), entry.escrow.as_ref()) else {
        return Ok(None);
    };
    if escrow.asset != asset || (escrow.payer != me && escrow.payee != me) {
        return Ok(None);
    }
    let occurred_at = time(entry.time_ms, "event time")?;
    Ok(Some(LedgerEvent {
        cursor: EventCursor(entry.cursor),
        id: event_id(chain_id, entry.cursor),
        kind,
        transfer: transfer_of(escrow, occurred_at)?,
        occurred_at,
    }))
}

/// What a client-side failure means for the caller: the node's problem codes for refused
/// submissions, otherwise the ledger is unavailable (retry).
pub fn client_error(e: ClientError) -> PluginError {
    match e {
        ClientError::Problem { status, code, detail } if status == 400 || status == 422 => {
            match code.as_str() {
                "too_large" => PluginError::Malformed {
                    reason: format!("the chain refused the transaction as too large: {detail}"),
                },
                _ => PluginError::Malformed {
                    reason: format!("the chain refused the request ({code}): {detail}"),
                },
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

/// The committed outcome of an escrow transaction, as the failure a caller sees. `Ok(())` if
/// it was applied; `Err(None)` if it is still pending (not final in time).
pub fn outcome(status: &TxStatus) -> Result<(), Option<(String, String)>> {
    use ledger_node::api::types::TxState;
    match status.status {
        TxState::Final => Ok(()),
        TxState::Pending => Err(None),
        TxState::Failed => Err(Some((
            status.reason.clone().unwrap_or_default(),
            status.detail.clone().unwrap_or_default(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(status: &str) -> EscrowView {
        EscrowView {
            id: "11".repeat(32),
            payer: "aa".repeat(32),
            payee: "bb".repeat(32),
            asset: "DCEP".into(),
            amount: 2_000,
            condition: Fulfillment::from_bytes([7; 32]).condition().to_string(),
            expires_at_ms: 1_700_000_030_000,
            memo: base64::engine::general_purpose::STANDARD.encode(b"ilp"),
            reference: "0f".repeat(16),
            status: status.into(),
            fulfillment: (status == "fulfilled").then(|| "07".repeat(32)),
            created_height: 5,
            closed_height: (status != "prepared").then_some(6),
            reject_reason: (status == "rejected").then(|| "F05 wrong condition".into()),
            created_at_ms: Some(1_700_000_000_000),
            closed_at_ms: (status != "prepared").then_some(1_700_000_001_000),
        }
    }

    #[test]
    fn an_escrow_reads_as_the_transfer_it_was_prepared_as() {
        let t = transfer_of(&view("prepared"), Timestamp::from_unix_millis(0).unwrap()).unwrap();
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
        let done = transfer_of(&view("fulfilled"), zero).unwrap();
        assert_eq!(done.fulfillment, Some(Fulfillment::from_bytes([7; 32])));
        assert_eq!(done.finalized_at.unwrap().unix_millis(), 1_700_000_001_000);
        let rejected = transfer_of(&view("rejected"), zero).unwrap();
        assert_eq!(rejected.reject_reason.as_deref(), Some("F05 wrong condition"));
        assert_eq!(
            transfer_of(&view("expired"), zero).unwrap().status,
            EscrowStatus::Expired
        );
        assert!(transfer_of(&view("melted"), zero).is_err());
    }

    #[test]
    fn only_escrow_events_of_my_accounts_in_my_asset_are_mine() {
        let entry = |kind: &str, escrow: EscrowView| EventView {
            cursor: 9,
            height: 6,
            time_ms: 1_700_000_001_000,
            tx_id: "00".repeat(32),
            kind: kind.into(),
            escrow: Some(escrow),
            anchor: None,
        };
        let chain = [1; 32];
        let payee = "bb".repeat(32);
        let e = event_of(
            &entry("escrow_fulfilled", view("fulfilled")),
            &chain,
            &payee,
            "DCEP",
        )
        .unwrap()
        .expect("mine");
        assert_eq!((e.cursor, e.kind), (EventCursor(9), EventKind::Fulfilled));
        assert_eq!(e.id, event_id(&chain, 9), "ids are stable");
        assert_ne!(event_id(&chain, 9), event_id(&chain, 10));
        assert_eq!(e.occurred_at.unix_millis(), 1_700_000_001_000);
        let stranger = "cc".repeat(32);
        assert!(
            event_of(
                &entry("escrow_created", view("prepared")),
                &chain,
                &stranger,
                "DCEP"
            )
            .unwrap()
            .is_none()
        );
        assert!(
            event_of(&entry("escrow_created", view("prepared")), &chain, &payee, "EUR")
                .unwrap()
                .is_none()
        );
        assert!(
            event_of(&entry("anchored", view("prepared")), &chain, &payee, "DCEP")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn refused_submissions_are_malformed_and_outages_retryable() {
        let refused = client_error(ClientError::Problem {
            status: 422,
            code: "bad_signature".into(),
            detail: "no".into(),
        });
        assert!(matches!(refused, PluginError::Malformed { .. }));
        assert!(!refused.is_retryable());
        let busy = client_error(ClientError::Problem {
            status: 503,
            code: "unavailable".into(),
            detail: "overloaded".into(),
        });
        assert!(busy.is_retryable());
    }
}
