//! Reconciliation: does the money each ledger booked on the connector's accounts match what the
//! connector's journal says it moved?
//!
//! For a period `[since, until)` and each ledger, the ledger's statement of the connector's
//! account (opening balance, booked entries, closing balance) is matched against the journal's
//! settled payments ([`Store::settled_flows`]): every fulfilled incoming leg should appear as a
//! credit, every fulfilled outgoing leg as a debit, each under its transfer id and for its exact
//! amount. Whatever does not match is listed as a [`Difference`]:
//!
//! - `unknown_to_journal`: the ledger booked something the connector never did (a direct
//!   payment from its account, an issuance, a transfer it has no record of);
//! - `missing_on_ledger`: the journal settled a leg the ledger has not booked;
//! - `amount_mismatch`: both know the transfer, but not for the same amount or direction;
//! - `statement_inconsistent`: the ledger's own entries do not add up to its closing balance.
//!
//! Two kinds are timing, not errors, and are listed so the totals can be explained:
//!
//! - `in_flight`: the ledger booked a leg of a payment the journal has not finished yet (the
//!   outgoing leg is paid, the incoming one is being claimed);
//! - `period_edge`: the ledger booked the leg on one side of a period boundary and the journal
//!   finished the payment on the other (ledger and connector clocks, and the time between
//!   learning a preimage and claiming the incoming leg). Statements are read for the period
//!   widened by an edge allowance on both sides to recognise these.
//!
//! [`reconcile_ledger`] is the matching, pure and tested here; [`report`] gathers the journal
//! and the statements for a running connector.

use std::collections::{BTreeMap, BTreeSet};

use htlc::{Asset, Timestamp};
use plugins::api::{CreditDebit, Statement, StatementEntry};
use plugins::{AccountId, TransferId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::LedgerId;
use crate::engine::Connector;
use crate::payment::{Payment, PaymentState};
use crate::store::{SettledFlow, StoreError};

/// The statement entry kind the ledgers use for a hash-locked transfer.
const TRANSFER_ENTRY: &str = "transfer";

/// Which way money moved on the connector's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money in (an incoming leg claimed).
    Credit,
    /// Money out (an outgoing leg paid).
    Debit,
}

impl Direction {
    /// `amount` with the sign of the direction.
    fn signed(self, amount: u64) -> i128 {
        match self {
            Direction::Credit => i128::from(amount),
            Direction::Debit => -i128::from(amount),
        }
    }
}

impl From<CreditDebit> for Direction {
    fn from(cd: CreditDebit) -> Self {
        match cd {
            CreditDebit::Credit => Direction::Credit,
            CreditDebit::Debit => Direction::Debit,
        }
    }
}

/// How a journal movement relates to the period being reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timing {
    /// The payment was finished inside the period: the ledger must have booked it there.
    InPeriod,
    /// The payment was finished just outside the period (within the edge allowance).
    NearPeriod,
    /// The payment is not finished yet.
    InFlight,
}

/// A movement the journal says happened (or is happening) on one of the connector's accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalMovement {
    /// The payment it belongs to.
    pub payment: Uuid,
    /// The ledger it is on.
    pub ledger: LedgerId,
    /// The transfer that moved the money.
    pub transfer: TransferId,
    /// In or out.
    pub direction: Direction,
    /// Minor units.
    pub amount: u64,
    /// How it relates to the period.
    pub timing: Timing,
}

/// The movements of settled payments: the incoming leg as a credit (unless the payment was
/// lost and the connector was never paid), the outgoing leg as a debit.
pub fn settled_movements(flows: &[SettledFlow], timing: Timing) -> Vec<JournalMovement> {
    let mut out = Vec::with_capacity(flows.len() * 2);
    for flow in flows {
        if flow.incoming_amount > 0 {
            out.push(JournalMovement {
                payment: flow.payment,
                ledger: flow.incoming_ledger.clone(),
                transfer: flow.incoming_transfer,
                direction: Direction::Credit,
                amount: flow.incoming_amount,
                timing,
            });
        }
        if let Some(transfer) = flow.outgoing_transfer
            && flow.outgoing_amount > 0
        {
            out.push(JournalMovement {
                payment: flow.payment,
                ledger: flow.outgoing_ledger.clone(),
                transfer,
                direction: Direction::Debit,
                amount: flow.outgoing_amount,
                timing,
            });
        }
    }
    out
}

/// Both legs of unfinished payments, as movements that may already be booked.
pub fn in_flight_movements(payments: &[Payment]) -> Vec<JournalMovement> {
    let mut out = Vec::new();
    for p in payments.iter().filter(|p| !p.state.is_final()) {
        out.push(JournalMovement {
            payment: p.id,
            ledger: p.incoming.ledger.clone(),
            transfer: p.incoming.transfer,
            direction: Direction::Credit,
            amount: p.incoming.amount,
            timing: Timing::InFlight,
        });
        if let Some(out_leg) = &p.outgoing
            && p.state != PaymentState::Forwarding
        {
            out.push(JournalMovement {
                payment: p.id,
                ledger: out_leg.ledger.clone(),
                transfer: out_leg.transfer,
                direction: Direction::Debit,
                amount: out_leg.amount,
                timing: Timing::InFlight,
            });
        }
    }
    out
}

/// The period reconciled, `[since, until)`, and how far outside it to look for bookings that
/// belong to payments finished inside it (and the other way round).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start (inclusive).
    pub since: Timestamp,
    /// End (exclusive).
    pub until: Timestamp,
    /// Edge allowance, ms.
    pub edge_ms: u64,
}

impl Period {
    /// The period widened by the edge allowance on both sides: what statements are read for.
    pub fn widened(&self) -> (Timestamp, Timestamp) {
        let edge = i64::try_from(self.edge_ms).unwrap_or(i64::MAX);
        (
            self.since
                .checked_add_millis(-edge)
                .unwrap_or(Timestamp::UNIX_EPOCH)
                .min(self.since),
            self.until.checked_add_millis(edge).unwrap_or(Timestamp::MAX),
        )
    }

    fn contains(&self, t: Timestamp) -> bool {
        self.since <= t && t < self.until
    }
}

/// What a difference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Booked on the ledger; the journal has no such movement.
    UnknownToJournal,
    /// Settled in the journal; the ledger has not booked it.
    MissingOnLedger,
    /// Both know the transfer, with different amounts or directions.
    AmountMismatch,
    /// The ledger's entries do not add up to its own closing balance.
    StatementInconsistent,
    /// Booked on the ledger for a payment the journal has not finished yet (timing).
    InFlight,
    /// Booked on one side of a period boundary, finished in the journal on the other (timing).
    PeriodEdge,
}

impl DifferenceKind {
    /// True for differences that resolve themselves (a later or adjacent period matches them).
    pub fn is_timing(self) -> bool {
        matches!(self, DifferenceKind::InFlight | DifferenceKind::PeriodEdge)
    }
}

/// One difference between a ledger and the journal. Amounts are signed minor units from the
/// connector account's point of view (credits positive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Difference {
    /// What it is.
    pub kind: DifferenceKind,
    /// The ledger entry's reference (a transfer id for escrow bookings).
    pub reference: String,
    /// The connector's payment, if the journal knows one.
    pub payment: Option<Uuid>,
    /// What the ledger booked.
    pub ledger_amount: Option<i64>,
    /// What the journal recorded.
    pub journal_amount: Option<i64>,
    /// When the ledger booked it.
    pub booked_at: Option<Timestamp>,
    /// The ledger's entry kind (`transfer`, `payment`, `issuance`, ...).
    pub entry_kind: Option<String>,
    /// The other account of the ledger entry.
    pub counterparty: Option<AccountId>,
    /// For a person.
    pub detail: String,
}

/// The balances of the period next to the journal's net movement, minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    /// Booked balance at `since`, minor units.
    pub opening_balance: i64,
    /// Booked balance at `until`.
    pub closing_balance: i64,
    /// `closing - opening`.
    pub ledger_net: i64,
    /// Credits minus debits the journal settled in the period on this ledger.
    pub journal_net: i64,
    /// `ledger_net - journal_net`: zero when everything matches; otherwise the sum of the
    /// differences' amounts.
    pub difference: i64,
}

/// The matching result for one ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerReconciliation {
    /// Balances and nets.
    pub totals: Totals,
    /// Ledger entries matched with a journal movement in the period.
    pub matched: usize,
    /// Everything that did not match.
    pub differences: Vec<Difference>,
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

fn signed_entry(e: &StatementEntry) -> i128 {
    Direction::from(e.credit_debit).signed(e.amount)
}

/// The booked balance at `t` according to a statement that starts at or before it.
fn balance_at(statement: &Statement, t: Timestamp) -> i64 {
    statement
        .entries
        .iter()
        .rev()
        .find(|e| e.booked_at < t)
        .map_or(statement.opening_balance, |e| e.balance_after)
}

/// Matches the statement of the connector's account on `ledger` (read for
/// [`Period::widened`]) against the journal's movements (of every ledger; those of others are
/// ignored; of two movements of the same transfer, the later one counts). Pure.
pub fn reconcile_ledger(
    ledger: &LedgerId,
    period: &Period,
    statement: &Statement,
    movements: &[JournalMovement],
) -> LedgerReconciliation {
    let journal: BTreeMap<TransferId, &JournalMovement> = movements
        .iter()
        .filter(|m| &m.ledger == ledger)
        .map(|m| (m.transfer, m))
        .collect();
    let mut differences = Vec::new();
    let mut matched = 0;
    // Journal movements of the period accounted for by a booking (in or near the period).
    let mut seen: BTreeSet<TransferId> = BTreeSet::new();
    // Entries near (outside) the period that book a transfer, for edge matching.
    let mut nearby: BTreeMap<TransferId, &StatementEntry> = BTreeMap::new();
    let mut entries_net: i128 = 0;

    for entry in &statement.entries {
        let transfer = if entry.kind == TRANSFER_ENTRY {
            entry.reference.parse().ok().map(TransferId)
        } else {
            None
        };
        if !period.contains(entry.booked_at) {
            if let Some(t) = transfer {
                nearby.entry(t).or_insert(entry);
            }
            continue;
        }
        entries_net += signed_entry(entry);
        let booked = clamp(signed_entry(entry));
        let difference =
            |kind, payment: Option<Uuid>, journal_amount: Option<i64>, detail: String| Difference {
                kind,
                reference: entry.reference.clone(),
                payment,
                ledger_amount: Some(booked),
                journal_amount,
                booked_at: Some(entry.booked_at),
                entry_kind: Some(entry.kind.clone()),
                counterparty: entry.counterparty.clone(),
                detail,
            };
        let Some(movement) = transfer.and_then(|t| journal.get(&t)) else {
            differences.push(difference(
                DifferenceKind::UnknownToJournal,
                None,
                None,
                format!(
                    "the ledger booked a `{}` entry the connector's journal has no record of",
                    entry.kind
                ),
            ));
            continue;
        };
        let expected = clamp(movement.direction.signed(movement.amount));
        if !seen.insert(movement.transfer) {
            differences.push(difference(
                DifferenceKind::UnknownToJournal,
                Some(movement.payment),
                None,
                "the ledger booked this transfer more than once".into(),
            ));
            continue;
        }
        if expected != booked {
            differences.push(difference(
                DifferenceKind::AmountMismatch,
                Some(movement.payment),
                Some(expected),
                format!("the ledger booked {booked}, the journal recorded {expected}"),
            ));
            continue;
        }
        match movement.timing {
            Timing::InPeriod => matched += 1,
            Timing::NearPeriod => differences.push(difference(
                DifferenceKind::PeriodEdge,
                Some(movement.payment),
                Some(expected),
                "booked in the period; the journal finished the payment just outside it".into(),
            )),
            Timing::InFlight => differences.push(difference(
                DifferenceKind::InFlight,
                Some(movement.payment),
                Some(expected),
                "booked; the connector has not finished this payment yet".into(),
            )),
        }
    }

    let mut journal_net: i128 = 0;
    for movement in journal.values().filter(|m| m.timing == Timing::InPeriod) {
        let expected = movement.direction.signed(movement.amount);
        journal_net += expected;
        if seen.contains(&movement.transfer) {
            continue;
        }
        let near = nearby.get(&movement.transfer);
        let (kind, detail) = match near {
            Some(e) if signed_entry(e) == expected => (
                DifferenceKind::PeriodEdge,
                "finished in the journal in the period; the ledger booked it just outside it".to_owned(),
            ),
            Some(e) => (
                DifferenceKind::AmountMismatch,
                format!(
                    "the ledger booked {} (just outside the period), the journal recorded {expected}",
                    signed_entry(e)
                ),
            ),
            None => (
                DifferenceKind::MissingOnLedger,
                "settled in the journal; the ledger has not booked it".to_owned(),
            ),
        };
        differences.push(Difference {
            kind,
            reference: movement.transfer.to_string(),
            payment: Some(movement.payment),
            ledger_amount: near.map(|e| clamp(signed_entry(e))),
            journal_amount: Some(clamp(expected)),
            booked_at: near.map(|e| e.booked_at),
            entry_kind: near.map(|e| e.kind.clone()),
            counterparty: near.and_then(|e| e.counterparty.clone()),
            detail,
        });
    }

    let opening = balance_at(statement, period.since);
    let closing = balance_at(statement, period.until);
    let ledger_net = i128::from(closing) - i128::from(opening);
    if entries_net != ledger_net {
        differences.push(Difference {
            kind: DifferenceKind::StatementInconsistent,
            reference: String::new(),
            payment: None,
            ledger_amount: Some(clamp(ledger_net)),
            journal_amount: None,
            booked_at: None,
            entry_kind: None,
            counterparty: None,
            detail: format!(
                "the entries add up to {entries_net} but the balance moved by {ledger_net} \
                 (opening {opening}, closing {closing})"
            ),
        });
    }
    LedgerReconciliation {
        totals: Totals {
            opening_balance: opening,
            closing_balance: closing,
            ledger_net: clamp(ledger_net),
            journal_net: clamp(journal_net),
            difference: clamp(ledger_net - journal_net),
        },
        matched,
        differences,
    }
}

/// One ledger in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerReport {
    /// The ledger.
    pub ledger: LedgerId,
    /// The connector's account there.
    pub account: AccountId,
    /// Its asset: amounts are minor units of it.
    pub asset: Asset,
    /// Balances and nets (absent if the statement could not be read).
    pub totals: Option<Totals>,
    /// Entries matched.
    pub matched: usize,
    /// Differences, booking order first, then journal movements the ledger lacks.
    pub differences: Vec<Difference>,
    /// Why the ledger could not be reconciled (its statement could not be read).
    pub error: Option<String>,
}

/// The whole reconciliation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    /// Period start (inclusive).
    pub since: Timestamp,
    /// Period end (exclusive).
    pub until: Timestamp,
    /// The edge allowance used, ms.
    pub edge_ms: u64,
    /// True if every ledger was read and nothing but timing differences remain.
    pub reconciled: bool,
    /// Differences that are not timing (what an operator must look into).
    pub unexplained: usize,
    /// Per ledger.
    pub ledgers: Vec<LedgerReport>,
}

/// Reconciles every ledger of `connector` for `period`: reads each ledger's statement, then
/// the journal (payments in flight, payments settled in and near the period), then matches
/// them. A ledger whose statement cannot be read is reported with its error; a journal failure
/// fails the whole report.
///
/// The order of the reads matters while payments are moving. A ledger books a leg before the
/// journal records the payment final, so every booking in a statement read first belongs to a
/// payment the journal, read after, has either in flight or settled. In-flight payments are
/// read before settled ones: one that finishes between the two reads is then in both, and the
/// settled record (later in `movements`) is the one matched.
pub async fn report(connector: &Connector, period: Period) -> Result<Report, StoreError> {
    let store = connector.store();
    let (wide_since, wide_until) = period.widened();
    let tables = connector.tables();
    let mut statements = Vec::new();
    for (id, entry) in &tables.ledgers {
        let statement = match connector.ledger(id) {
            Some(plugin) => plugin
                .statement(&entry.account, wide_since, wide_until)
                .await
                .map_err(|e| e.to_string()),
            None => Err("not connected".to_owned()),
        };
        statements.push((id, entry, statement));
    }

    let mut movements = in_flight_movements(&store.unfinished().await?);
    movements.extend(settled_movements(
        &store.settled_flows(period.since, period.until).await?,
        Timing::InPeriod,
    ));
    for (from, to) in [(wide_since, period.since), (period.until, wide_until)] {
        if from < to {
            movements.extend(settled_movements(
                &store.settled_flows(from, to).await?,
                Timing::NearPeriod,
            ));
        }
    }

    let mut ledgers = Vec::new();
    for (id, entry, statement) in statements {
        let mut section = LedgerReport {
            ledger: id.clone(),
            account: entry.account.clone(),
            asset: entry.info.asset.clone(),
            totals: None,
            matched: 0,
            differences: Vec::new(),
            error: None,
        };
        match statement {
            Ok(statement) => {
                let result = reconcile_ledger(id, &period, &statement, &movements);
                section.totals = Some(result.totals);
                section.matched = result.matched;
                section.differences = result.differences;
            }
            Err(error) => section.error = Some(error),
        }
        ledgers.push(section);
    }
    let unexplained = ledgers
        .iter()
        .flat_map(|l| &l.differences)
        .filter(|d| !d.kind.is_timing())
        .count();
    let reconciled = unexplained == 0 && ledgers.iter().all(|l| l.error.is_none());
    Ok(Report {
        since: period.since,
        until: period.until,
        edge_ms: period.edge_ms,
        reconciled,
        unexplained,
        ledgers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + ms).unwrap()
    }

    fn id(n: u128) -> TransferId {
        TransferId(Uuid::from_u128(n))
    }

    fn de() -> LedgerId {
        LedgerId::new("digital-euro")
    }

    fn period() -> Period {
        Period {
            since: t(0),
            until: t(10_000),
            edge_ms: 1_000,
        }
    }

    /// A statement of the connector's account with these `(at, signed amount, kind, reference)`
    /// bookings, balances following from `opening`.
    fn statement(opening: i64, bookings: &[(i64, i64, &str, String)]) -> Statement {
        let mut balance = opening;
        let entries = bookings
            .iter()
            .enumerate()
            .map(|(i, (at, amount, kind, reference))| {
                balance += amount;
                StatementEntry {
                    seq: i64::try_from(i + 1).expect("a short test statement"),
                    booked_at: t(*at),
                    amount: amount.unsigned_abs(),
                    credit_debit: if *amount >= 0 {
                        CreditDebit::Credit
                    } else {
                        CreditDebit::Debit
                    },
                    balance_after: balance,
                    kind: (*kind).to_owned(),
                    reference: reference.clone(),
                    counterparty: Some(AccountId::new("bank-a").unwrap()),
                }
            })
            .collect();
        Statement {
            account: AccountId::new("clearing-bank").unwrap(),
            from: t(-1_000),
            to: t(11_000),
            opening_balance: opening,
            entries,
            closing_balance: balance,
        }
    }

    fn movement(n: u128, direction: Direction, amount: u64, timing: Timing) -> JournalMovement {
        JournalMovement {
            payment: Uuid::from_u128(1_000 + n),
            ledger: de(),
            transfer: id(n),
            direction,
            amount,
            timing,
        }
    }

    fn kinds(r: &LedgerReconciliation) -> Vec<(DifferenceKind, String)> {
        r.differences
            .iter()
            .map(|d| (d.kind, d.reference.clone()))
            .collect()
    }

    #[test]
    fn matching_bookings_leave_nothing_to_explain() {
        let s = statement(
            1_000_000,
            &[
                (-500, 7, "payment", "before the period".into()),
                (100, 100_100, "transfer", id(1).to_string()),
                (200, -50_000, "transfer", id(2).to_string()),
            ],
        );
        let journal = [
            movement(1, Direction::Credit, 100_100, Timing::InPeriod),
            movement(2, Direction::Debit, 50_000, Timing::InPeriod),
            // Another ledger's movement is none of this ledger's business.
            JournalMovement {
                ledger: LedgerId::new("e-cny"),
                ..movement(3, Direction::Debit, 1, Timing::InPeriod)
            },
        ];
        let r = reconcile_ledger(&de(), &period(), &s, &journal);
        assert_eq!(kinds(&r), vec![]);
        assert_eq!(r.matched, 2);
        assert_eq!(
            r.totals,
            Totals {
                opening_balance: 1_000_007,
                closing_balance: 1_050_107,
                ledger_net: 50_100,
                journal_net: 50_100,
                difference: 0,
            }
        );
    }

    #[test]
    fn every_kind_of_difference_is_listed() {
        let s = statement(
            0,
            &[
                // a direct payment out of the connector's account
                (100, -3_000, "payment", "pay-1".into()),
                // a transfer the journal does not know
                (200, 500, "transfer", id(9).to_string()),
                // known, wrong amount
                (300, 99_000, "transfer", id(1).to_string()),
                // known, wrong direction
                (400, 20, "transfer", id(4).to_string()),
            ],
        );
        let journal = [
            movement(1, Direction::Credit, 100_100, Timing::InPeriod),
            movement(2, Direction::Debit, 50_000, Timing::InPeriod),
            movement(4, Direction::Debit, 20, Timing::InPeriod),
        ];
        let r = reconcile_ledger(&de(), &period(), &s, &journal);
        assert_eq!(
            kinds(&r),
            vec![
                (DifferenceKind::UnknownToJournal, "pay-1".to_owned()),
                (DifferenceKind::UnknownToJournal, id(9).to_string()),
                (DifferenceKind::AmountMismatch, id(1).to_string()),
                (DifferenceKind::AmountMismatch, id(4).to_string()),
                (DifferenceKind::MissingOnLedger, id(2).to_string()),
            ]
        );
        let payment = &r.differences[0];
        assert_eq!(payment.ledger_amount, Some(-3_000));
        assert_eq!(payment.entry_kind.as_deref(), Some("payment"));
        assert_eq!(payment.booked_at, Some(t(100)));
        let wrong = &r.differences[2];
        assert_eq!(
            (wrong.ledger_amount, wrong.journal_amount, wrong.payment),
            (Some(99_000), Some(100_100), Some(Uuid::from_u128(1_001)))
        );
        let missing = &r.differences[4];
        assert_eq!(
            (missing.ledger_amount, missing.journal_amount),
            (None, Some(-50_000))
        );
        // ledger moved -3000 + 500 + 99000 + 20; the journal says 100100 - 50000 - 20
        assert_eq!(r.totals.ledger_net, 96_520);
        assert_eq!(r.totals.journal_net, 50_080);
        assert_eq!(r.totals.difference, 96_520 - 50_080);
        assert_eq!(r.matched, 0);
    }

    #[test]
    fn bookings_across_a_period_boundary_are_timing() {
        let s = statement(
            0,
            &[
                // booked just before the period, finished in the journal inside it
                (-200, 100, "transfer", id(1).to_string()),
                // booked at the end of the period, finished in the journal after it
                (9_900, -40, "transfer", id(2).to_string()),
                // booked for a payment still in flight
                (9_950, -70, "transfer", id(3).to_string()),
                // booked just after the period for a payment the journal has in the period,
                // with a different amount
                (10_100, 5, "transfer", id(4).to_string()),
            ],
        );
        let journal = [
            movement(1, Direction::Credit, 100, Timing::InPeriod),
            movement(2, Direction::Debit, 40, Timing::NearPeriod),
            movement(3, Direction::Debit, 70, Timing::InFlight),
            movement(4, Direction::Credit, 6, Timing::InPeriod),
        ];
        let r = reconcile_ledger(&de(), &period(), &s, &journal);
        assert_eq!(
            kinds(&r),
            vec![
                (DifferenceKind::PeriodEdge, id(2).to_string()),
                (DifferenceKind::InFlight, id(3).to_string()),
                (DifferenceKind::PeriodEdge, id(1).to_string()),
                (DifferenceKind::AmountMismatch, id(4).to_string()),
            ]
        );
        assert!(r.differences[..3].iter().all(|d| d.kind.is_timing()));
        assert_eq!(r.totals.opening_balance, 100, "the balance at `since`");
        assert_eq!(r.totals.closing_balance, -10, "the balance at `until`");
    }

    #[test]
    fn a_statement_that_does_not_add_up_is_flagged() {
        let mut s = statement(10, &[(100, 5, "transfer", id(1).to_string())]);
        s.entries[0].balance_after = 99;
        let r = reconcile_ledger(
            &de(),
            &period(),
            &s,
            &[movement(1, Direction::Credit, 5, Timing::InPeriod)],
        );
        assert_eq!(
            kinds(&r),
            vec![(DifferenceKind::StatementInconsistent, String::new())]
        );
    }

    #[test]
    fn a_transfer_booked_twice_is_listed_once_as_extra() {
        let s = statement(
            0,
            &[
                (100, 5, "transfer", id(1).to_string()),
                (200, 5, "transfer", id(1).to_string()),
            ],
        );
        let r = reconcile_ledger(
            &de(),
            &period(),
            &s,
            &[movement(1, Direction::Credit, 5, Timing::InPeriod)],
        );
        assert_eq!(r.matched, 1);
        assert_eq!(
            kinds(&r),
            vec![(DifferenceKind::UnknownToJournal, id(1).to_string())]
        );
        assert_eq!(r.totals.difference, 5);
    }

    #[test]
    fn a_payment_read_in_flight_and_then_settled_counts_as_settled() {
        let s = statement(0, &[(100, 5, "transfer", id(1).to_string())]);
        let journal = [
            movement(1, Direction::Credit, 5, Timing::InFlight),
            movement(1, Direction::Credit, 5, Timing::InPeriod),
        ];
        let r = reconcile_ledger(&de(), &period(), &s, &journal);
        assert_eq!((r.matched, kinds(&r)), (1, vec![]));
        assert_eq!(r.totals.difference, 0);
    }

    #[test]
    fn settled_flows_become_movements() {
        let flow = SettledFlow {
            payment: Uuid::from_u128(7),
            incoming_ledger: de(),
            incoming_transfer: id(1),
            incoming_amount: 100_100,
            outgoing_ledger: LedgerId::new("e-cny"),
            outgoing_transfer: Some(id(2)),
            outgoing_amount: 200_000,
        };
        let lost = SettledFlow {
            incoming_amount: 0,
            ..flow.clone()
        };
        let m = settled_movements(&[flow, lost], Timing::InPeriod);
        let summary: Vec<_> = m
            .iter()
            .map(|m| (m.ledger.as_str(), m.direction, m.amount))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("digital-euro", Direction::Credit, 100_100),
                ("e-cny", Direction::Debit, 200_000),
                ("e-cny", Direction::Debit, 200_000),
            ],
            "a lost payment's incoming leg was never paid"
        );
    }

    #[test]
    fn statements_are_read_for_the_period_widened_by_the_edge() {
        assert_eq!(period().widened(), (t(-1_000), t(11_000)));
    }
}
