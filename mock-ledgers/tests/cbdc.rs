//! The rules that make the CBDC ledgers CBDCs: two-tier issuance with supply equal to balances
//! plus escrows, e-CNY wallet tiers, the digital euro's holding limit and waterfalls, and
//! wholesale accounts without retail limits.

mod common;

use htlc::{Clock, EscrowStatus, Fulfillment};
use mock_ledgers::config::fixtures;
use plugins::api::{IssuanceRequest, PaymentRequest, RedemptionRequest};
use plugins::{AccountId, LedgerPlugin, PluginError, PrepareTransfer, RestPlugin, TransferId};

use common::Ledger;

fn account(id: &str) -> AccountId {
    AccountId::new(id).unwrap()
}

/// Minor units of a whole amount (both CBDC fixtures have scale 2).
fn units(whole: u64) -> u64 {
    whole * 100
}

async fn pay(plugin: &RestPlugin, from: &str, to: &str, amount: u64) -> Result<(), PluginError> {
    let request = PaymentRequest {
        from: account(from),
        to: account(to),
        amount,
        reference: None,
    };
    plugin
        .pay(&request, &TransferId::random().to_string())
        .await
        .map(|_| ())
}

fn escrow(l: &Ledger, from: &str, to: &str, amount: u64, f: &Fulfillment) -> PrepareTransfer {
    PrepareTransfer {
        id: TransferId::random(),
        from: account(from),
        to: account(to),
        amount,
        condition: f.condition(),
        expires_at: l.clock.now().checked_add_millis(60_000).unwrap(),
        memo: vec![],
    }
}

async fn available(plugin: &RestPlugin, id: &str) -> i128 {
    plugin.balance(&account(id)).await.unwrap().available
}

async fn assert_supply_holds(l: &Ledger) -> i64 {
    let s = l.ledger.supply().await.unwrap();
    assert_eq!(
        s.total_supply,
        s.balances + s.escrowed,
        "supply == balances + escrows: {s:?}"
    );
    s.total_supply
}

fn is_limit(r: Result<impl std::fmt::Debug, PluginError>, what: &str) {
    match r {
        Err(PluginError::LimitExceeded { limit, .. }) => {
            assert!(limit.contains(what), "{limit:?} should mention {what:?}")
        }
        other => panic!("expected limit_exceeded ({what}), got {other:?}"),
    }
}

async fn two_tier(fixture: &str, central_bank_key: &str, wallet: &str, wallet_operator_key: &str) {
    let l = Ledger::start(fixture).await;
    let cb = l.plugin(central_bank_key).await;
    let bank_a = l.plugin("bank-a-k1").await;
    let operator = l.plugin(wallet_operator_key).await;
    let start = assert_supply_holds(&l).await;

    let issued = cb
        .issue(
            &IssuanceRequest {
                to: account("bank-a"),
                amount: units(5_000),
            },
            "issue-1",
        )
        .await
        .unwrap();
    assert_eq!(
        issued.total_supply,
        start + i64::try_from(units(5_000)).expect("a small amount")
    );
    assert_eq!(assert_supply_holds(&l).await, issued.total_supply);
    // Issuance goes to intermediaries only, and only the central bank issues.
    assert!(matches!(
        cb.issue(
            &IssuanceRequest {
                to: account(wallet),
                amount: 1
            },
            "issue-2"
        )
        .await,
        Err(PluginError::Forbidden { .. })
    ));
    assert!(matches!(
        bank_a
            .issue(
                &IssuanceRequest {
                    to: account("bank-a"),
                    amount: 1
                },
                "issue-3"
            )
            .await,
        Err(PluginError::Forbidden { .. })
    ));

    // Distribution to a wallet, a wallet payment held in escrow, redemption back.
    pay(&bank_a, "bank-a", "bank-b", units(100)).await.unwrap();
    let bank_b = l.plugin("bank-b-k1").await;
    pay(&bank_b, "bank-b", wallet, units(100)).await.unwrap();
    let f = Fulfillment::from_bytes([5; 32]);
    let t = operator
        .prepare(escrow(&l, wallet, "clearing-bank", units(50), &f))
        .await
        .unwrap();
    assert_supply_holds(&l).await;
    let redeemed = bank_a
        .redeem(
            &RedemptionRequest {
                from: account("bank-a"),
                amount: units(1_000),
            },
            "redeem-1",
        )
        .await
        .unwrap();
    assert_eq!(
        redeemed.total_supply,
        issued.total_supply - i64::try_from(units(1_000)).expect("a small amount")
    );
    assert_eq!(assert_supply_holds(&l).await, redeemed.total_supply);
    l.plugin("clearing-bank-k1").await.fulfill(t.id, f).await.unwrap();
    assert_supply_holds(&l).await;

    // The central bank issues and redeems; it does not pay or receive.
    let f = Fulfillment::from_bytes([6; 32]);
    let cb_account = l
        .ledger
        .config()
        .accounts
        .iter()
        .find(|a| a.terms.kind == mock_ledgers::config::AccountKind::CentralBank)
        .unwrap()
        .terms
        .id
        .clone();
    assert!(matches!(
        cb.prepare(escrow(&l, cb_account.as_str(), "bank-a", 1, &f)).await,
        Err(PluginError::Forbidden { .. })
    ));
    assert!(matches!(
        bank_a
            .prepare(escrow(&l, "bank-a", cb_account.as_str(), 1, &f))
            .await,
        Err(PluginError::Forbidden { .. })
    ));
}

#[tokio::test]
async fn digital_euro_two_tier_issuance_keeps_supply_equal_to_balances_plus_escrows() {
    two_tier(fixtures::DIGITAL_EURO, "ecb-k1", "wallet-clara", "bank-b-k1").await;
}

#[tokio::test]
async fn e_cny_two_tier_issuance_keeps_supply_equal_to_balances_plus_escrows() {
    two_tier(fixtures::E_CNY, "pboc-k1", "wallet-t2-li", "bank-b-k1").await;
}

#[tokio::test]
async fn e_cny_tier_limits_per_payment_daily_annual_and_balance() {
    let l = Ledger::start(fixtures::E_CNY).await;
    let bank_a = l.plugin("bank-a-k1").await; // operates wallet-t3-zhang and wallet-t4-liu

    // Tier 4 (opening 800): 500 per payment, 1000 a day, 10000 a year, balance at most 1000.
    let liu = "wallet-t4-liu";
    is_limit(pay(&bank_a, liu, "bank-a", units(500) + 1).await, "per-payment");
    pay(&bank_a, liu, "bank-a", units(500)).await.unwrap();
    pay(&bank_a, "bank-a", liu, units(700)).await.unwrap();
    pay(&bank_a, liu, "bank-a", units(500)).await.unwrap();
    is_limit(pay(&bank_a, liu, "bank-a", 1).await, "daily");
    // Escrows count against the limits too.
    let f = Fulfillment::from_bytes([1; 32]);
    is_limit(
        bank_a.prepare(escrow(&l, liu, "clearing-bank", 1, &f)).await,
        "daily",
    );

    // Each day (China Standard Time) the daily limit starts again; the annual one does not.
    for _ in 0..8 {
        l.clock.advance_millis(86_400_000);
        for _ in 0..2 {
            pay(&bank_a, "bank-a", liu, units(500)).await.unwrap();
            pay(&bank_a, liu, "bank-a", units(500)).await.unwrap();
        }
    }
    l.clock.advance_millis(86_400_000); // 9,000 paid this year so far
    pay(&bank_a, "bank-a", liu, units(500)).await.unwrap();
    // A refunded escrow gives its amount back to the limits.
    let t = bank_a
        .prepare(escrow(&l, liu, "clearing-bank", units(500), &f))
        .await
        .unwrap();
    l.plugin("clearing-bank-k1")
        .await
        .reject(t.id, None)
        .await
        .unwrap();
    pay(&bank_a, liu, "bank-a", units(500)).await.unwrap(); // 9,500
    pay(&bank_a, "bank-a", liu, units(500)).await.unwrap();
    pay(&bank_a, liu, "bank-a", units(500)).await.unwrap(); // 10,000
    l.clock.advance_millis(86_400_000);
    is_limit(pay(&bank_a, liu, "bank-a", 1).await, "annual");

    // Tier 3 balance limit 2000, checked when an incoming escrow is created, pending ones counted.
    assert_eq!(
        available(&bank_a, "wallet-t3-zhang").await,
        i128::from(units(1_500))
    );
    let f = Fulfillment::from_bytes([2; 32]);
    let first = bank_a
        .prepare(escrow(&l, "bank-a", "wallet-t3-zhang", units(400), &f))
        .await
        .unwrap();
    is_limit(
        bank_a
            .prepare(escrow(&l, "bank-a", "wallet-t3-zhang", units(200), &f))
            .await,
        "balance limit",
    );
    bank_a.fulfill(first.id, f).await.unwrap();
    assert_eq!(
        available(&bank_a, "wallet-t3-zhang").await,
        i128::from(units(1_900))
    );
    is_limit(
        pay(&bank_a, "bank-a", "wallet-t3-zhang", units(101)).await,
        "balance limit",
    );

    // Tier 1 and wholesale accounts: large payments pass.
    let bank_b = l.plugin("bank-b-k1").await;
    pay(&bank_b, "wallet-t1-wang", "bank-b", units(20_000))
        .await
        .unwrap();
    pay(&bank_a, "bank-a", "clearing-bank", units(900_000))
        .await
        .unwrap();
    assert_supply_holds(&l).await;
}

#[tokio::test]
async fn digital_euro_holding_limit_waterfall_reverse_waterfall_and_merchants() {
    let l = Ledger::start(fixtures::DIGITAL_EURO).await;
    let bank_a = l.plugin("bank-a-k1").await; // operates wallet-anna (linked to bank-a)
    let bank_b = l.plugin("bank-b-k1").await; // operates wallet-ben (unlinked, 2500), merchant-cafe
    let start = assert_supply_holds(&l).await;

    // Unlinked wallet: refuses what would exceed 3000, pending incoming escrows counted.
    is_limit(
        pay(&bank_b, "bank-b", "wallet-ben", units(501)).await,
        "holding limit",
    );
    let f = Fulfillment::from_bytes([7; 32]);
    let pending = bank_b
        .prepare(escrow(&l, "bank-b", "wallet-ben", units(400), &f))
        .await
        .unwrap();
    is_limit(
        bank_b
            .prepare(escrow(&l, "bank-b", "wallet-ben", units(101), &f))
            .await,
        "holding limit",
    );
    bank_b.fulfill(pending.id, f).await.unwrap();
    assert_eq!(available(&bank_b, "wallet-ben").await, i128::from(units(2_900)));

    // Linked wallet: receiving beyond the limit sweeps the excess to the bank (waterfall).
    let bank_a_before = available(&bank_a, "bank-a").await;
    pay(&bank_a, "bank-a", "wallet-anna", units(3_000)).await.unwrap(); // 500 + 3000 = 3500
    assert_eq!(available(&bank_a, "wallet-anna").await, i128::from(units(3_000)));
    assert_eq!(
        available(&bank_a, "bank-a").await,
        bank_a_before - i128::from(units(3_000)) + i128::from(units(500))
    );

    // Paying more than it holds pulls the shortfall from the bank (reverse waterfall); the
    // merchant wallet keeps nothing: all of it sweeps to the merchant's bank.
    let bank_b_before = available(&bank_b, "bank-b").await;
    pay(&bank_a, "wallet-anna", "merchant-cafe", units(3_400))
        .await
        .unwrap();
    assert_eq!(available(&bank_a, "wallet-anna").await, 0);
    assert_eq!(available(&bank_b, "merchant-cafe").await, 0);
    assert_eq!(
        available(&bank_b, "bank-b").await,
        bank_b_before + i128::from(units(3_400))
    );

    // An escrow from an empty linked wallet is funded by the reverse waterfall at creation.
    let f = Fulfillment::from_bytes([8; 32]);
    let t = bank_a
        .prepare(escrow(&l, "wallet-anna", "clearing-bank", units(100), &f))
        .await
        .unwrap();
    let anna = bank_a.balance(&account("wallet-anna")).await.unwrap();
    assert_eq!((anna.available, anna.held), (0, units(100)));
    l.plugin("clearing-bank-k1").await.fulfill(t.id, f).await.unwrap();

    // The statement shows the sweeps and top-ups.
    let s = bank_a
        .statement(
            &account("wallet-anna"),
            common::start_time(),
            l.clock.now().checked_add_millis(1).unwrap(),
        )
        .await
        .unwrap();
    let kinds: Vec<&str> = s.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "opening", "payment", "sweep", "top-up", "payment", "top-up", "transfer"
        ]
    );
    assert_eq!(s.closing_balance, 0);
    assert_eq!(
        assert_supply_holds(&l).await,
        start,
        "waterfalls move money, never create it"
    );

    // Wholesale accounts have no retail limit.
    pay(
        &l.plugin("clearing-bank-k1").await,
        "clearing-bank",
        "bank-a",
        units(500_000),
    )
    .await
    .unwrap();
    let _ = EscrowStatus::Prepared;
}

/// The security review's reproduction: four issuances of 2,305,843,009,213,693,951 minor units
/// by the central bank used to answer 201 and wrap bank-a's balance and the supply negative.
/// Each is now refused with `supply_cap_exceeded` carrying the cap, and nothing changes, also
/// after a restart.
#[tokio::test]
async fn issuance_beyond_the_supply_cap_is_refused_and_changes_nothing() {
    let l = Ledger::start(fixtures::DIGITAL_EURO).await;
    let cb = l.plugin("ecb-k1").await;
    let bank_a = l.plugin("bank-a-k1").await;
    let supply_before = l.ledger.supply().await.unwrap();
    let balance_before = available(&bank_a, "bank-a").await;
    for attempt in 0..4 {
        let body = serde_json::json!({"to": "bank-a", "amount": 2_305_843_009_213_693_951u64});
        let (status, content_type, problem) = l
            .send(
                "ecb-k1",
                "POST",
                "/v1/issuances",
                body.to_string().as_bytes(),
                &[
                    ("Content-Type", "application/json"),
                    ("Idempotency-Key", &format!("huge-{attempt}")),
                ],
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("supply_cap_exceeded")),
            "{problem}"
        );
        assert!(content_type.starts_with("application/problem+json"));
        assert_eq!(problem["cap"], mock_ledgers::config::MAX_LEDGER_AMOUNT);
        assert_eq!(problem["supply"], supply_before.total_supply);
    }
    // The same through the client: the error arrives typed.
    let refused = cb
        .issue(
            &IssuanceRequest {
                to: account("bank-a"),
                amount: u64::MAX / 2,
            },
            "huge-client",
        )
        .await;
    assert!(
        matches!(refused, Err(PluginError::Malformed { .. })),
        "{refused:?}"
    );
    assert_eq!(available(&bank_a, "bank-a").await, balance_before);
    assert_eq!(l.ledger.supply().await.unwrap(), supply_before);

    let l = l.restarted(1_000).await;
    let bank_a = l.plugin("bank-a-k1").await;
    assert_eq!(available(&bank_a, "bank-a").await, balance_before);
    assert_eq!(l.ledger.supply().await.unwrap(), supply_before);
}

/// A configured cap below the default: issuance up to the cap works, one minor unit more is
/// refused with the cap and the supply as it stood.
#[tokio::test]
async fn a_configured_supply_cap_is_enforced_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(fixtures::E_CNY, dir.path());
    let start = {
        let l = Ledger::start(fixtures::E_CNY).await;
        l.ledger.supply().await.unwrap().total_supply
    };
    config.max_supply = u64::try_from(start).unwrap() + units(1_000);
    let clock = std::sync::Arc::new(htlc::ManualClock::new(common::start_time()));
    let ledger = mock_ledgers::server::run_with_clock(config, clock.clone() as std::sync::Arc<dyn Clock>)
        .await
        .unwrap();
    let l = Ledger { ledger, clock, dir };
    let cb = l.plugin("pboc-k1").await;
    let issue = |amount: u64, key: &'static str| {
        let cb = &cb;
        async move {
            cb.issue(
                &IssuanceRequest {
                    to: account("bank-a"),
                    amount,
                },
                key,
            )
            .await
        }
    };
    issue(units(1_000), "to-the-cap").await.unwrap();
    match issue(1, "one-more").await {
        Err(PluginError::SupplyCapExceeded {
            cap,
            supply,
            requested,
        }) => {
            assert_eq!(cap, l.ledger.config().max_supply);
            assert_eq!(supply, i64::try_from(cap).unwrap());
            assert_eq!(requested, 1);
        }
        other => panic!("expected supply_cap_exceeded, got {other:?}"),
    }
    assert_eq!(
        assert_supply_holds(&l).await,
        i64::try_from(l.ledger.config().max_supply).unwrap()
    );
}

/// An escrow may not outlive the ledger's maximum hold (7 days by default): an expiry of
/// 9999-12-31 is refused with `expiry_too_far` and the latest acceptable expiry, nothing held.
#[tokio::test]
async fn an_expiry_beyond_the_maximum_hold_is_refused() {
    let l = Ledger::start(fixtures::DIGITAL_EURO).await;
    let bank_a = l.plugin("bank-a-k1").await;
    let before = available(&bank_a, "bank-a").await;
    let f = Fulfillment::from_bytes([9; 32]);
    let max_hold = i64::try_from(l.ledger.config().max_hold_ms).unwrap();
    let mut far = escrow(&l, "bank-a", "clearing-bank", units(10), &f);
    far.expires_at = htlc::Timestamp::parse_rfc3339("9999-12-31T00:00:00Z").unwrap();
    match bank_a.prepare(far).await {
        Err(PluginError::ExpiryTooFar {
            latest, max_hold_ms, ..
        }) => {
            assert_eq!(latest, l.clock.now().checked_add_millis(max_hold).unwrap());
            assert_eq!(max_hold_ms, l.ledger.config().max_hold_ms);
        }
        other => panic!("expected expiry_too_far, got {other:?}"),
    }
    let mut just_beyond = escrow(&l, "bank-a", "clearing-bank", units(10), &f);
    just_beyond.expires_at = l.clock.now().checked_add_millis(max_hold + 1).unwrap();
    assert!(matches!(
        bank_a.prepare(just_beyond).await,
        Err(PluginError::ExpiryTooFar { .. })
    ));
    assert_eq!(available(&bank_a, "bank-a").await, before, "nothing held");
    let mut at_the_limit = escrow(&l, "bank-a", "clearing-bank", units(10), &f);
    at_the_limit.expires_at = l.clock.now().checked_add_millis(max_hold).unwrap();
    bank_a.prepare(at_the_limit).await.unwrap();
}
