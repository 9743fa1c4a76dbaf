//! The connector's switching hot path for one incoming escrow, without IO: what the ledger
//! follower computes before it journals a payment (the decision, the payment's UETR,
//! destination and claim deadline, and the outgoing packet's bytes), and a quote over the same
//! corridor. The whitepaper's corridor: 1001.00 DE in, 2000.00 DC/EP out at 2 per DE, 1.00 DE fee.
//!
//! Run: `cargo bench -p connector --bench switch`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;

use connector::LedgerId;
use connector::layers::expiry::ExpiryPolicy;
use connector::layers::limits::AccountLimits;
use connector::layers::pricing::Pricing;
use connector::layers::route::{NextHop, Route, RoutingTable};
use connector::layers::validate::EscrowTerms;
use connector::payment_data::PaymentData;
use connector::quote::{self, QuotePolicy, QuoteRequest};
use connector::switch::{self, Incoming, LedgerEntry, SwitchTables};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use htlc::{Address, Asset, AssetCode, Condition, Prepare, Rate, Timestamp};
use plugins::{AccountId, LedgerInfo};

fn t(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).expect("valid time")
}

fn ledger(id: &str, asset: &str, prefix: &str) -> (LedgerId, LedgerEntry) {
    (
        LedgerId::new(id),
        LedgerEntry {
            info: LedgerInfo {
                ledger_id: id.into(),
                asset: Asset::new(AssetCode::new(asset).expect("asset code"), 2).expect("asset"),
                ilp_prefix: Address::new(prefix).expect("prefix"),
                expected_finality_ms: 50,
            },
            account: AccountId::new("clearing-bank").expect("account"),
        },
    )
}

fn tables() -> SwitchTables {
    let de = LedgerId::new("digital-euro");
    let ecny = LedgerId::new("e-cny");
    let route = |prefix: &str, ledger: &LedgerId| Route {
        prefix: prefix.into(),
        ledger: ledger.clone(),
        next_hop: NextHop::AccountFromAddress,
    };
    SwitchTables {
        address: Address::new("test.clearing").expect("address"),
        ledgers: [
            ledger("digital-euro", "DE", "test.de"),
            ledger("e-cny", "DC/EP", "test.ecny"),
        ]
        .into_iter()
        .collect(),
        routes: RoutingTable::new([route("test.ecny", &ecny), route("test.de", &de)]),
        pricing: [(
            (de.clone(), ecny),
            Pricing::new(Rate::from_decimal("2", 2, 2).expect("rate"), 100, 0).expect("pricing"),
        )]
        .into_iter()
        .collect(),
        limits: BTreeMap::new(),
        ledger_limits: [(
            de,
            AccountLimits {
                max_packet_amount: Some(25_000_000),
                exposure_limit: Some(100_000_000),
            },
        )]
        .into_iter()
        .collect(),
        default_limits: AccountLimits::default(),
        expiry: ExpiryPolicy::default(),
    }
}

fn switching(c: &mut Criterion) {
    let tables = tables();
    let de = LedgerId::new("digital-euro");
    let bank_a = AccountId::new("bank-a").expect("account");
    let condition = Condition::from_bytes([5; 32]);
    let data = PaymentData::new(200_000, "invoice 7").expect("data").encode();
    let memo = Prepare::new(
        Address::new("test.ecny.bank-b.8f2c").expect("destination"),
        100_100,
        t(20_000),
        condition,
        data,
    )
    .expect("prepare")
    .encode();
    let mut group = c.benchmark_group("switch");
    group.throughput(Throughput::Elements(1));
    group.bench_function("incoming_escrow_forwarded", |b| {
        b.iter(|| {
            let transfer_expiry = t(20_000);
            let decision = switch::decide(
                black_box(&tables),
                Incoming {
                    ledger: &de,
                    from: &bank_a,
                    escrow: EscrowTerms {
                        amount: 100_100,
                        condition: &condition,
                        expires_at: transfer_expiry,
                        memo: black_box(&memo),
                    },
                },
                0,
                t(0),
            );
            // What the follower takes from the decision for the journal, then the outgoing memo.
            let packet = decision.packet.as_ref();
            let uetr = packet.and_then(|p| p.data.as_ref()).map(|d| d.uetr);
            let destination = packet
                .map(|p| p.prepare.destination().to_string())
                .unwrap_or_default();
            let deadline = packet.map_or(transfer_expiry, |p| p.expires_at);
            let forward = decision.outcome.expect("forwarded");
            black_box((uetr, destination, deadline));
            black_box(forward.prepare.encode())
        })
    });
    let request = QuoteRequest {
        source_ledger: de.clone(),
        source_account: Some(bank_a.clone()),
        destination: Address::new("test.ecny.bank-b.8f2c").expect("destination"),
        destination_amount: Some(200_000),
        source_amount: None,
    };
    let policy = QuotePolicy::default();
    group.bench_function("quote", |b| {
        b.iter(|| quote::quote(black_box(&tables), black_box(&request), &policy, t(0)).expect("quote"))
    });
    group.finish();
}

criterion_group!(benches, switching);
criterion_main!(benches);
