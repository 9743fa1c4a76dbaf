//! The checks. Each takes a fresh harness and panics (fails the test) with a message saying
//! what a connector would have seen go wrong.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use htlc::{EscrowStatus, Fulfillment, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Harness;
use crate::error::PluginError;
use crate::plugin::{AccountId, Balance, EventCursor, EventKind, LedgerPlugin, PrepareTransfer, TransferId};
use crate::subscribe::subscribe;

#[async_trait]
impl<H: Harness + ?Sized> Harness for Box<H> {
    fn payer(&self) -> Arc<dyn LedgerPlugin> {
        (**self).payer()
    }
    fn payee(&self) -> Arc<dyn LedgerPlugin> {
        (**self).payee()
    }
    fn payer_account(&self) -> AccountId {
        (**self).payer_account()
    }
    fn payee_account(&self) -> AccountId {
        (**self).payee_account()
    }
    fn unknown_account(&self) -> AccountId {
        (**self).unknown_account()
    }
    fn now(&self) -> Timestamp {
        (**self).now()
    }
    async fn advance(&self, millis: i64) {
        (**self).advance(millis).await
    }
}

/// Escrow lifetime used by the checks.
const EXPIRY_MS: i64 = 30_000;

fn preimage(rng: &mut impl Rng) -> Fulfillment {
    Fulfillment::from_bytes(rng.r#gen())
}

fn request(
    h: &dyn Harness,
    from: AccountId,
    to: AccountId,
    amount: u64,
    fulfillment: &Fulfillment,
) -> PrepareTransfer {
    PrepareTransfer {
        id: TransferId::random(),
        from,
        to,
        amount,
        condition: fulfillment.condition(),
        expires_at: h.now().checked_add_millis(EXPIRY_MS).expect("expiry in range"),
        memo: b"ilp-prepare-bytes".to_vec(),
    }
}

async fn balance(plugin: &dyn LedgerPlugin, account: &AccountId) -> Balance {
    plugin
        .balance(account)
        .await
        .expect("balance of an owned account")
}

/// Available plus held of both accounts.
async fn total(h: &dyn Harness) -> i128 {
    let a = balance(&*h.payer(), &h.payer_account()).await;
    let b = balance(&*h.payee(), &h.payee_account()).await;
    a.available + i128::from(a.held) + b.available + i128::from(b.held)
}

/// The payer's funds move to `held`, then to the payee on fulfilment; the payee's event
/// carries the preimage.
pub async fn prepare_then_fulfil(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(1);
    let (payer, payee) = (h.payer(), h.payee());
    let before_a = balance(&*payer, &h.payer_account()).await;
    let before_b = balance(&*payee, &h.payee_account()).await;
    let f = preimage(&mut rng);
    let req = request(h, h.payer_account(), h.payee_account(), 12_345, &f);
    let t = payer.prepare(req.clone()).await.expect("prepare");
    assert_eq!(t.status, EscrowStatus::Prepared);
    assert_eq!(
        (t.id, t.amount, t.condition, &t.memo),
        (req.id, req.amount, req.condition, &req.memo)
    );
    let mid_a = balance(&*payer, &h.payer_account()).await;
    assert_eq!(
        mid_a.available,
        before_a.available - 12_345,
        "prepare locks the amount"
    );
    assert_eq!(mid_a.held, before_a.held + 12_345);
    let seen = payee
        .transfer(req.id)
        .await
        .expect("payee sees the incoming transfer");
    assert_eq!(seen.status, EscrowStatus::Prepared);

    let done = payee.fulfill(req.id, f).await.expect("fulfil");
    assert_eq!(done.status, EscrowStatus::Fulfilled);
    assert_eq!(done.fulfillment, Some(f));
    let after_a = balance(&*payer, &h.payer_account()).await;
    let after_b = balance(&*payee, &h.payee_account()).await;
    assert_eq!(after_a.available, before_a.available - 12_345);
    assert_eq!(after_a.held, before_a.held);
    assert_eq!(
        after_b.available,
        before_b.available + 12_345,
        "payee credited once"
    );
    let payer_view = payer.transfer(req.id).await.expect("payer looks it up");
    assert_eq!(payer_view.fulfillment, Some(f), "the payer learns the preimage");

    let page = payee
        .events(EventCursor::START, 100, Duration::ZERO)
        .await
        .expect("events");
    let kinds: Vec<EventKind> = page
        .events
        .iter()
        .filter(|e| e.transfer.id == req.id)
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [EventKind::Prepared, EventKind::Fulfilled]);
    let fulfilled = page
        .events
        .iter()
        .find(|e| e.kind == EventKind::Fulfilled)
        .expect("fulfilled event");
    assert_eq!(fulfilled.transfer.fulfillment, Some(f));
}

/// A rejected transfer returns the funds to the payer.
pub async fn prepare_then_reject(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(2);
    let (payer, payee) = (h.payer(), h.payee());
    let before = balance(&*payer, &h.payer_account()).await;
    let f = preimage(&mut rng);
    let req = request(h, h.payer_account(), h.payee_account(), 500, &f);
    payer.prepare(req.clone()).await.expect("prepare");
    let reason = "F05 condition does not match".to_owned();
    let r = payee.reject(req.id, Some(reason.clone())).await.expect("reject");
    assert_eq!(r.status, EscrowStatus::Rejected);
    assert_eq!(
        balance(&*payer, &h.payer_account()).await,
        before,
        "refunded in full"
    );
    let seen = payer.transfer(req.id).await.expect("the payer sees it");
    assert_eq!(seen.reject_reason, Some(reason), "the payer learns why");
    let again = payee
        .reject(req.id, None)
        .await
        .expect("repeating a reject answers the same");
    assert_eq!(again.status, EscrowStatus::Rejected);
    match payee.fulfill(req.id, f).await {
        Err(PluginError::AlreadyFinal { status, .. }) => assert_eq!(status, EscrowStatus::Rejected),
        other => panic!("fulfilling a rejected transfer must fail with already_final, got {other:?}"),
    }
    assert_eq!(balance(&*payer, &h.payer_account()).await, before);
}

/// At its expiry an unfulfilled transfer is refunded and an `expired` event is published.
pub async fn expiry_refunds(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(3);
    let payer = h.payer();
    let before = balance(&*payer, &h.payer_account()).await;
    let f = preimage(&mut rng);
    let req = request(h, h.payer_account(), h.payee_account(), 700, &f);
    payer.prepare(req.clone()).await.expect("prepare");
    h.advance(EXPIRY_MS - 1).await;
    assert_eq!(
        payer.transfer(req.id).await.expect("lookup").status,
        EscrowStatus::Prepared,
        "not before expiry"
    );
    h.advance(1).await;
    let t = payer.transfer(req.id).await.expect("lookup");
    assert_eq!(t.status, EscrowStatus::Expired, "refunded at the expiry instant");
    assert_eq!(balance(&*payer, &h.payer_account()).await, before);
    let page = payer
        .events(EventCursor::START, 100, Duration::ZERO)
        .await
        .expect("events");
    assert!(
        page.events
            .iter()
            .any(|e| e.transfer.id == req.id && e.kind == EventKind::Expired),
        "the payer is told about the refund"
    );
}

/// A wrong preimage is refused and changes nothing; the right one still works.
pub async fn wrong_preimage_changes_nothing(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(4);
    let (payer, payee) = (h.payer(), h.payee());
    let f = preimage(&mut rng);
    let req = request(h, h.payer_account(), h.payee_account(), 900, &f);
    payer.prepare(req.clone()).await.expect("prepare");
    let before = balance(&*payee, &h.payee_account()).await;
    let wrong = preimage(&mut rng);
    match payee.fulfill(req.id, wrong).await {
        Err(PluginError::WrongCondition { id }) => assert_eq!(id, req.id),
        other => panic!("expected wrong_condition, got {other:?}"),
    }
    assert_eq!(
        payee.transfer(req.id).await.expect("lookup").status,
        EscrowStatus::Prepared
    );
    assert_eq!(balance(&*payee, &h.payee_account()).await, before);
    payee
        .fulfill(req.id, f)
        .await
        .expect("the right preimage still works");
}

/// Fulfilling at or after the expiry fails and the payer keeps the money.
pub async fn fulfil_after_expiry_fails(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(5);
    let (payer, payee) = (h.payer(), h.payee());
    let before_a = balance(&*payer, &h.payer_account()).await;
    let before_b = balance(&*payee, &h.payee_account()).await;
    let f = preimage(&mut rng);
    let req = request(h, h.payer_account(), h.payee_account(), 1_000, &f);
    payer.prepare(req.clone()).await.expect("prepare");
    h.advance(EXPIRY_MS).await;
    match payee.fulfill(req.id, f).await {
        Err(PluginError::Expired { expires_at }) => assert_eq!(expires_at, req.expires_at),
        other => panic!("expected expired, got {other:?}"),
    }
    assert_eq!(balance(&*payer, &h.payer_account()).await, before_a);
    assert_eq!(balance(&*payee, &h.payee_account()).await, before_b);
    assert_eq!(
        payer.transfer(req.id).await.expect("lookup").status,
        EscrowStatus::Expired
    );
}

/// A repeated fulfil answers like the first and pays once; a later reject is refused.
pub async fn double_fulfil_is_idempotent(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(6);
    let (payer, payee) = (h.payer(), h.payee());
    let before = balance(&*payee, &h.payee_account()).await;
    let f = preimage(&mut rng);
    let req = request(h, h.payer_account(), h.payee_account(), 2_000, &f);
    payer.prepare(req.clone()).await.expect("prepare");
    let first = payee.fulfill(req.id, f).await.expect("fulfil");
    let second = payee.fulfill(req.id, f).await.expect("repeat fulfil");
    assert_eq!(first, second);
    assert_eq!(
        balance(&*payee, &h.payee_account()).await.available,
        before.available + 2_000,
        "paid once"
    );
    match payee.reject(req.id, None).await {
        Err(PluginError::AlreadyFinal { status, .. }) => assert_eq!(status, EscrowStatus::Fulfilled),
        other => panic!("rejecting a fulfilled transfer must fail, got {other:?}"),
    }
}

/// Preparing again with the same id and terms returns the first transfer and locks once;
/// the same id with different terms is a duplicate.
pub async fn duplicate_transfer_id(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(7);
    let payer = h.payer();
    let before = balance(&*payer, &h.payer_account()).await;
    let f = preimage(&mut rng);
    let req = request(h, h.payer_account(), h.payee_account(), 300, &f);
    let first = payer.prepare(req.clone()).await.expect("prepare");
    let again = payer.prepare(req.clone()).await.expect("same id, same terms");
    assert_eq!(first, again);
    assert_eq!(
        balance(&*payer, &h.payer_account()).await.held,
        before.held + 300,
        "locked once"
    );
    let mut changed = req.clone();
    changed.amount = 301;
    match payer.prepare(changed).await {
        Err(PluginError::Duplicate { .. }) => {}
        other => panic!("same id with another amount must be a duplicate, got {other:?}"),
    }
    assert_eq!(balance(&*payer, &h.payer_account()).await.held, before.held + 300);
}

/// More than the payer can spend is refused and changes nothing.
pub async fn insufficient_funds_changes_nothing(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(8);
    let payer = h.payer();
    let before = balance(&*payer, &h.payer_account()).await;
    let too_much =
        u64::try_from(before.available + i128::from(before.overdraft_limit) + 1).expect("positive");
    let req = request(
        h,
        h.payer_account(),
        h.payee_account(),
        too_much,
        &preimage(&mut rng),
    );
    match payer.prepare(req.clone()).await {
        Err(PluginError::InsufficientFunds { account, needed, .. }) => {
            assert_eq!(account, h.payer_account());
            assert_eq!(needed, too_much);
        }
        other => panic!("expected insufficient_funds, got {other:?}"),
    }
    assert_eq!(balance(&*payer, &h.payer_account()).await, before);
    assert!(
        matches!(
            payer.transfer(req.id).await,
            Err(PluginError::UnknownTransfer { .. })
        ),
        "no transfer recorded"
    );
}

/// Unknown payee, unknown payer and unknown transfers are reported as such.
pub async fn unknown_accounts(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(9);
    let payer = h.payer();
    let before = balance(&*payer, &h.payer_account()).await;
    let to_nobody = request(h, h.payer_account(), h.unknown_account(), 10, &preimage(&mut rng));
    match payer.prepare(to_nobody).await {
        Err(PluginError::UnknownAccount { account }) => assert_eq!(account, h.unknown_account()),
        other => panic!("expected unknown_account for the payee, got {other:?}"),
    }
    let from_nobody = request(h, h.unknown_account(), h.payee_account(), 10, &preimage(&mut rng));
    assert!(matches!(
        payer.prepare(from_nobody).await,
        Err(PluginError::UnknownAccount { .. })
    ));
    assert!(matches!(
        payer.balance(&h.unknown_account()).await,
        Err(PluginError::UnknownAccount { .. })
    ));
    assert!(matches!(
        payer.transfer(TransferId::random()).await,
        Err(PluginError::UnknownTransfer { .. })
    ));
    assert_eq!(balance(&*payer, &h.payer_account()).await, before);
}

/// An expiry that is not in the future is refused.
pub async fn expiry_must_be_in_the_future(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(10);
    let mut req = request(h, h.payer_account(), h.payee_account(), 10, &preimage(&mut rng));
    req.expires_at = h.now();
    assert!(matches!(
        h.payer().prepare(req).await,
        Err(PluginError::Expired { .. })
    ));
}

/// A subscriber that stops after some events and resumes from the last cursor it processed
/// sees every later event exactly once, in order.
pub async fn events_resume_without_gaps_or_repeats(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(11);
    let (payer, payee) = (h.payer(), h.payee());
    let mut expected = Vec::new();
    let prepare = async |rng: &mut StdRng| {
        let f = preimage(rng);
        let req = request(h, h.payer_account(), h.payee_account(), 10, &f);
        payer.prepare(req.clone()).await.expect("prepare");
        (req.id, f)
    };
    for _ in 0..4 {
        let (id, f) = prepare(&mut rng).await;
        payee.fulfill(id, f).await.expect("fulfil");
        expected.push((id, EventKind::Prepared));
        expected.push((id, EventKind::Fulfilled));
    }
    let start = payee
        .events(EventCursor::START, 1, Duration::ZERO)
        .await
        .expect("events");
    let origin = EventCursor(start.events.first().map(|e| e.cursor.0 - 1).unwrap_or(0));

    let mut seen = Vec::new();
    let mut last = origin;
    {
        let mut stream = Box::pin(subscribe(payee.clone(), origin, Duration::from_millis(200)));
        for _ in 0..5 {
            let e = stream.next().await.expect("stream open").expect("event");
            last = e.cursor;
            seen.push((e.transfer.id, e.kind));
        }
    } // disconnect
    for _ in 0..2 {
        let (id, _) = prepare(&mut rng).await;
        payee.reject(id, None).await.expect("reject");
        expected.push((id, EventKind::Prepared));
        expected.push((id, EventKind::Rejected));
    }
    let mut stream = Box::pin(subscribe(payee.clone(), last, Duration::from_millis(200)));
    while seen.len() < expected.len() {
        let e = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("events arrive")
            .expect("stream open")
            .expect("event");
        assert!(e.cursor > last, "cursors increase");
        last = e.cursor;
        seen.push((e.transfer.id, e.kind));
    }
    assert_eq!(seen, expected, "every event once, in order");
    let tail = payee
        .events(last, 10, Duration::from_millis(50))
        .await
        .expect("events");
    assert!(tail.events.is_empty(), "nothing after the last event");
    assert_eq!(tail.next, last);
}

/// A seeded random mix of prepares (both ways), fulfils, wrong fulfils, rejects, expiries and
/// oversized requests: after every step the two accounts together hold the same money.
pub async fn random_sequence_conserves_money(h: &dyn Harness) {
    let mut rng = StdRng::seed_from_u64(0x5eed_c0de);
    let parties = [(h.payer(), h.payer_account()), (h.payee(), h.payee_account())];
    let start_total = total(h).await;
    let mut open: Vec<(TransferId, usize, Fulfillment)> = Vec::new(); // id, payee index, preimage
    let mut finals = HashSet::new();
    for step in 0..60 {
        match rng.gen_range(0..10) {
            0..=3 => {
                let from = rng.gen_range(0..2);
                let to = 1 - from;
                let f = preimage(&mut rng);
                let amount = if rng.gen_bool(0.1) {
                    u64::MAX / 8
                } else {
                    rng.gen_range(1..5_000)
                };
                let req = request(h, parties[from].1.clone(), parties[to].1.clone(), amount, &f);
                match parties[from].0.prepare(req.clone()).await {
                    Ok(_) => open.push((req.id, to, f)),
                    Err(PluginError::InsufficientFunds { .. } | PluginError::Malformed { .. }) => {}
                    Err(e) => panic!("step {step}: unexpected prepare failure {e:?}"),
                }
            }
            4..=5 if !open.is_empty() => {
                let (id, to, f) = open.swap_remove(rng.gen_range(0..open.len()));
                match parties[to].0.fulfill(id, f).await {
                    Ok(t) => assert_eq!(t.status, EscrowStatus::Fulfilled),
                    Err(PluginError::Expired { .. }) => {}
                    Err(e) => panic!("step {step}: unexpected fulfil failure {e:?}"),
                }
                finals.insert(id);
            }
            6 if !open.is_empty() => {
                let (id, to, _) = open[rng.gen_range(0..open.len())];
                let wrong = preimage(&mut rng);
                assert!(
                    parties[to].0.fulfill(id, wrong).await.is_err(),
                    "step {step}: wrong preimage accepted"
                );
            }
            7 if !open.is_empty() => {
                let (id, to, _) = open.swap_remove(rng.gen_range(0..open.len()));
                let _ = parties[to].0.reject(id, None).await;
                finals.insert(id);
            }
            _ => h.advance(rng.gen_range(1_000..12_000)).await,
        }
        assert_eq!(
            total(h).await,
            start_total,
            "step {step}: money created or destroyed"
        );
    }
    h.advance(EXPIRY_MS + 1).await;
    for (id, _, _) in &open {
        let t = h
            .payer()
            .transfer(*id)
            .await
            .or(h.payee().transfer(*id).await)
            .expect("lookup");
        assert!(t.status.is_final(), "every transfer is final after its expiry");
    }
    for (plugin, account) in &parties {
        assert_eq!(balance(&**plugin, account).await.held, 0, "nothing stays locked");
    }
    assert_eq!(total(h).await, start_total);
}
