//! The switching decision: given an incoming escrow and the connector's tables, what to forward
//! where — or why not. This is the one place the layers are assembled, in the order a payment
//! meets them:
//!
//! 1. [`validate`](crate::layers::validate): memo is a Prepare matching the escrow (decoded
//!    once, here: the engine journals the payment from the decoded packet);
//! 2. [`route`](crate::layers::route): longest prefix picks the outgoing ledger and account, and
//!    the corridor's rate (see [`SwitchTables::corridor`], which quotes use too);
//! 3. [`limits`](crate::layers::limits): packet size and counterparty exposure;
//! 4. [`pricing`](crate::layers::pricing): rate and fees give the outgoing amount;
//! 5. [`expiry`](crate::layers::expiry): the timeout ladder gives the outgoing expiry.
//!
//! Pure: no IO, no clock (the caller passes `now`), so every rule is tested exhaustively.

use std::collections::BTreeMap;

use htlc::{Address, ErrorCode, Prepare, Reject, Timestamp};
use plugins::{AccountId, LedgerInfo};

use crate::LedgerId;
use crate::layers::Rejection;
use crate::layers::expiry::{ExpiryPolicy, Finality};
use crate::layers::limits::{self, AccountLimits};
use crate::layers::pricing::Pricing;
use crate::layers::route::{Resolved, RoutingTable};
use crate::layers::validate::{self, EscrowTerms, IncomingPacket};

/// A ledger the connector holds an account on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// What the ledger says about itself.
    pub info: LedgerInfo,
    /// The connector's own account there.
    pub account: AccountId,
}

/// Everything the decision reads. Owned by the engine; replaced or edited through the operator
/// API (routes, rates, limits).
#[derive(Debug, Clone)]
pub struct SwitchTables {
    /// The connector's ILP address (the `triggeredBy` of its rejects).
    pub address: Address,
    /// Ledgers by id.
    pub ledgers: BTreeMap<LedgerId, LedgerEntry>,
    /// Where destinations go.
    pub routes: RoutingTable,
    /// Price per corridor (incoming ledger, outgoing ledger).
    pub pricing: BTreeMap<(LedgerId, LedgerId), Pricing>,
    /// Limits per counterparty (ledger, account).
    pub limits: BTreeMap<(LedgerId, AccountId), AccountLimits>,
    /// Limits for the other counterparties on a ledger.
    pub ledger_limits: BTreeMap<LedgerId, AccountLimits>,
    /// Limits for counterparties with no entry of their own or their ledger's.
    pub default_limits: AccountLimits,
    /// The timeout ladder.
    pub expiry: ExpiryPolicy,
}

/// An escrow that arrived for the connector.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The ledger it is on.
    pub ledger: &'a LedgerId,
    /// The payer (the counterparty).
    pub from: &'a AccountId,
    /// The escrow itself.
    pub escrow: EscrowTerms<'a>,
}

/// What the switch made of an incoming escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The memo, decoded; `None` when it is not an ILP Prepare. Kept whether or not the payment
    /// goes on: the journal names the payment by its UETR, destination and claim deadline.
    pub packet: Option<IncomingPacket>,
    /// The outgoing escrow to create, or why not.
    pub outcome: Result<Forward, Rejection>,
}

/// The outgoing escrow to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Ledger to prepare on.
    pub ledger: LedgerId,
    /// The connector's paying account there.
    pub from: AccountId,
    /// The next hop's account.
    pub to: AccountId,
    /// The connector's fee, incoming minor units.
    pub fee: u64,
    /// The packet for the next hop: same condition, destination and data; the outgoing amount
    /// and expiry, which are the outgoing escrow's.
    pub prepare: Prepare,
}

impl Forward {
    /// Outgoing minor units.
    pub fn amount(&self) -> u64 {
        self.prepare.amount()
    }

    /// Outgoing expiry.
    pub fn expires_at(&self) -> Timestamp {
        self.prepare.expires_at()
    }
}

/// A corridor as a payment or a quote for it meets it: one lookup serves both, so a quote
/// promises exactly what the payment will be allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corridor<'a> {
    /// The outgoing ledger, the next hop's account on it and the route's prefix.
    pub hop: Resolved,
    /// The incoming (source) ledger.
    pub incoming: &'a LedgerEntry,
    /// The outgoing ledger.
    pub outgoing: &'a LedgerEntry,
    /// The corridor's rate and fees.
    pub pricing: &'a Pricing,
    /// The two ledgers' finality, for the timeout ladder.
    pub finality: Finality,
    /// The payer's limits.
    pub limits: AccountLimits,
}

impl SwitchTables {
    /// The limits that apply to a counterparty.
    pub fn limits_for(&self, ledger: &LedgerId, account: &AccountId) -> AccountLimits {
        self.limits
            .get(&(ledger.clone(), account.clone()))
            .copied()
            .unwrap_or_else(|| self.ledger_wide_limits(ledger))
    }

    /// The limits of a counterparty on `ledger` that has no entry of its own.
    pub fn ledger_wide_limits(&self, ledger: &LedgerId) -> AccountLimits {
        self.ledger_limits
            .get(ledger)
            .copied()
            .unwrap_or(self.default_limits)
    }

    /// The corridor from `source` to `destination` for `payer`, or for any payer on `source`
    /// when none is named (then the ledger-wide limits apply: a quote must never promise what
    /// the payment would be refused). T00 when `source` is not one of the connector's ledgers;
    /// F02 when there is no route, the route leads to an unknown ledger, to the connector
    /// itself or back to the payer, or the corridor has no rate.
    pub fn corridor(
        &self,
        source: &LedgerId,
        payer: Option<&AccountId>,
        destination: &Address,
    ) -> Result<Corridor<'_>, Rejection> {
        let incoming = self.ledgers.get(source).ok_or_else(|| {
            Rejection::new(ErrorCode::T00_INTERNAL_ERROR, format!("unknown ledger {source}"))
        })?;
        let unreachable = |why: String| Rejection::new(ErrorCode::F02_UNREACHABLE, why);
        let hop = self.routes.resolve(destination)?;
        let outgoing = self
            .ledgers
            .get(&hop.ledger)
            .ok_or_else(|| unreachable(format!("{destination}: route to an unknown ledger")))?;
        if hop.account == outgoing.account || (&hop.ledger == source && Some(&hop.account) == payer) {
            return Err(unreachable(format!("{destination}: route loops back")));
        }
        let pricing = self
            .pricing
            .get(&(source.clone(), hop.ledger.clone()))
            .ok_or_else(|| unreachable(format!("no rate from {source} to {}", hop.ledger)))?;
        let limits = match payer {
            Some(account) => self.limits_for(source, account),
            None => self.ledger_wide_limits(source),
        };
        Ok(Corridor {
            finality: Finality {
                incoming_ms: incoming.info.expected_finality_ms,
                outgoing_ms: outgoing.info.expected_finality_ms,
            },
            hop,
            incoming,
            outgoing,
            pricing,
            limits,
        })
    }

    /// The ILP Reject this connector answers a refused packet with, `triggeredBy` its own
    /// address. Ledger escrows carry only the code and message (as the reject reason); a peer
    /// speaking ILP-over-HTTP gets the packet.
    pub fn reject(&self, rejection: &Rejection) -> Reject {
        rejection.to_packet(&self.address)
    }
}

/// Decides what to do with an incoming escrow. `in_flight` is what the payer already has in
/// flight through this connector (for the exposure limit).
pub fn decide(tables: &SwitchTables, incoming: Incoming<'_>, in_flight: u64, now: Timestamp) -> Decision {
    match validate::decode(&incoming.escrow) {
        Ok(packet) => Decision {
            outcome: forward(tables, &incoming, &packet, in_flight, now),
            packet: Some(packet),
        },
        Err(rejection) => Decision {
            packet: None,
            outcome: Err(rejection),
        },
    }
}

/// The layers after decoding, in order.
fn forward(
    tables: &SwitchTables,
    incoming: &Incoming<'_>,
    packet: &IncomingPacket,
    in_flight: u64,
    now: Timestamp,
) -> Result<Forward, Rejection> {
    validate::check(&incoming.escrow, packet, now)?;
    let corridor = tables.corridor(incoming.ledger, Some(incoming.from), packet.prepare.destination())?;
    limits::check(&corridor.limits, incoming.escrow.amount, in_flight)?;
    let priced = corridor.pricing.forward(incoming.escrow.amount)?;
    let expires_at = tables
        .expiry
        .outgoing_expiry(packet.expires_at, corridor.finality, now)?;
    let mut prepare = packet.prepare.clone();
    prepare.set_amount(priced.outgoing);
    prepare.set_expires_at(expires_at);
    Ok(Forward {
        ledger: corridor.hop.ledger,
        from: corridor.outgoing.account.clone(),
        to: corridor.hop.account,
        fee: priced.fee,
        prepare,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::layers::route::{NextHop, Route};
    use crate::payment_data::PaymentData;
    use htlc::{AmountTooLarge, Asset, AssetCode, Condition, Packet, Rate};
    use proptest::prelude::*;

    pub(crate) fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    fn ledger(id: &str, asset: &str, prefix: &str, finality: u64) -> (LedgerId, LedgerEntry) {
        (
            LedgerId::new(id),
            LedgerEntry {
                info: LedgerInfo {
                    ledger_id: id.into(),
                    asset: Asset::new(AssetCode::new(asset).unwrap(), 2).unwrap(),
                    ilp_prefix: Address::new(prefix).unwrap(),
                    expected_finality_ms: finality,
                },
                account: AccountId::new("clearing-bank").unwrap(),
            },
        )
    }

    /// The whitepaper's clearing bank: DE in, DC/EP out at 2 per DE, 1 DE fee.
    pub(crate) fn scenario_tables() -> SwitchTables {
        let de = LedgerId::new("digital-euro");
        let ecny = LedgerId::new("e-cny");
        SwitchTables {
            address: Address::new("test.clearing").unwrap(),
            ledgers: [
                ledger("digital-euro", "DE", "test.de", 200),
                ledger("e-cny", "DC/EP", "test.ecny", 200),
            ]
            .into_iter()
            .collect(),
            routes: RoutingTable::new([
                Route {
                    prefix: "test.ecny".into(),
                    ledger: ecny.clone(),
                    next_hop: NextHop::AccountFromAddress,
                },
                Route {
                    prefix: "test.de".into(),
                    ledger: de.clone(),
                    next_hop: NextHop::AccountFromAddress,
                },
            ]),
            pricing: [(
                (de.clone(), ecny),
                Pricing::new(Rate::from_decimal("2", 2, 2).unwrap(), 100, 0).unwrap(),
            )]
            .into_iter()
            .collect(),
            limits: BTreeMap::new(),
            ledger_limits: BTreeMap::new(),
            default_limits: AccountLimits::default(),
            expiry: ExpiryPolicy::default(),
        }
    }

    fn packet(dest: &str, amount: u64, expiry: i64) -> Vec<u8> {
        Prepare::new(
            Address::new(dest).unwrap(),
            amount,
            t(expiry),
            Condition::from_bytes([5; 32]),
            b"end-to-end".to_vec(),
        )
        .unwrap()
        .encode()
    }

    fn run(
        tables: &SwitchTables,
        memo: &[u8],
        amount: u64,
        expiry: i64,
        in_flight: u64,
    ) -> Result<Forward, Rejection> {
        decision(tables, memo, amount, expiry, in_flight).outcome
    }

    fn decision(tables: &SwitchTables, memo: &[u8], amount: u64, expiry: i64, in_flight: u64) -> Decision {
        let condition = Condition::from_bytes([5; 32]);
        let de = LedgerId::new("digital-euro");
        let bank_a = AccountId::new("bank-a").unwrap();
        decide(
            tables,
            Incoming {
                ledger: &de,
                from: &bank_a,
                escrow: EscrowTerms {
                    amount,
                    condition: &condition,
                    expires_at: t(expiry),
                    memo,
                },
            },
            in_flight,
            t(0),
        )
    }

    #[test]
    fn the_scenario_forwards_2000_dcep_for_1001_de() {
        let tables = scenario_tables();
        let memo = packet("test.ecny.bank-b.conn1", 100_100, 20_000);
        let f = run(&tables, &memo, 100_100, 20_000, 0).unwrap();
        assert_eq!(f.ledger.as_str(), "e-cny");
        assert_eq!((f.from.as_str(), f.to.as_str()), ("clearing-bank", "bank-b"));
        assert_eq!((f.amount(), f.fee), (200_000, 100));
        // margin = 200 + 200 + 1000 + 1000
        assert_eq!(f.expires_at(), t(17_600));
        assert_eq!(f.prepare.execution_condition(), &Condition::from_bytes([5; 32]));
        assert_eq!(f.prepare.data(), b"end-to-end");
        assert_eq!(f.prepare.destination().as_str(), "test.ecny.bank-b.conn1");
    }

    #[test]
    fn each_layer_rejects_with_its_code() {
        let mut tables = scenario_tables();
        let code = |r: Result<Forward, Rejection>| r.unwrap_err().code;
        assert_eq!(
            code(run(&tables, b"x", 100_100, 20_000, 0)),
            ErrorCode::F01_INVALID_PACKET
        );
        // Each refused at its own layer: (destination, amount, expiry, code, why).
        #[rustfmt::skip]
        let refused = [
            ("test.nowhere.x", 100_100, 20_000, ErrorCode::F02_UNREACHABLE, "no route"),
            ("test.de.bank-a", 100_100, 20_000, ErrorCode::F02_UNREACHABLE, "loop"),
            ("test.ecny.clearing-bank", 100_100, 20_000, ErrorCode::F02_UNREACHABLE, "to us"),
            ("test.ecny.bank-b", 100, 20_000, ErrorCode::R01_INSUFFICIENT_SOURCE_AMOUNT, "tiny"),
            ("test.ecny.bank-b", 100_100, 3_000, ErrorCode::R02_INSUFFICIENT_TIMEOUT, "short"),
        ];
        for (destination, amount, expiry, expected, why) in refused {
            let memo = packet(destination, amount, expiry);
            assert_eq!(code(run(&tables, &memo, amount, expiry, 0)), expected, "{why}");
        }

        // The limits and the rate, for a good packet with `in_flight` already out.
        let good = packet("test.ecny.bank-b", 100_100, 20_000);
        let good_with = |tables: &SwitchTables, in_flight| run(tables, &good, 100_100, 20_000, in_flight);
        tables.default_limits = AccountLimits {
            max_packet_amount: Some(50_000),
            exposure_limit: Some(150_000),
        };
        assert_eq!(code(good_with(&tables, 0)), ErrorCode::F08_AMOUNT_TOO_LARGE);
        tables.default_limits.max_packet_amount = None;
        assert_eq!(
            code(good_with(&tables, 60_000)),
            ErrorCode::T04_INSUFFICIENT_LIQUIDITY
        );
        assert!(good_with(&tables, 40_000).is_ok());

        tables.pricing.clear();
        assert_eq!(code(good_with(&tables, 0)), ErrorCode::F02_UNREACHABLE);
        // A corridor without a rate is unreachable whatever the amount: no T04 "retry later".
        assert_eq!(code(good_with(&tables, 60_000)), ErrorCode::F02_UNREACHABLE);
    }

    #[test]
    fn the_decoded_packet_is_kept_whether_or_not_the_payment_goes_on() {
        let tables = scenario_tables();
        let data = PaymentData::new(200_000, "invoice 7").unwrap();
        let memo = Prepare::new(
            Address::new("test.ecny.bank-b").unwrap(),
            100_100,
            t(20_000),
            Condition::from_bytes([5; 32]),
            data.encode(),
        )
        .unwrap()
        .encode();
        let forwarded = decision(&tables, &memo, 100_100, 19_000, 0);
        let packet = forwarded.packet.unwrap();
        assert_eq!(packet.data, Some(data.clone()));
        assert_eq!(packet.expires_at, t(19_000), "the escrow's earlier expiry");
        assert_eq!(forwarded.outcome.unwrap().prepare.data(), data.encode());

        // Refused by a later check: the journal still learns the UETR and destination.
        let refused = decision(&tables, &memo, 99, 19_000, 0);
        assert_eq!(refused.outcome.unwrap_err().code, ErrorCode::F03_INVALID_AMOUNT);
        let packet = refused.packet.unwrap();
        assert_eq!(packet.data.map(|d| d.uetr), Some(data.uetr));
        assert_eq!(packet.prepare.destination().as_str(), "test.ecny.bank-b");

        let junk = decision(&tables, b"junk", 100_100, 19_000, 0);
        assert_eq!(
            (junk.packet, junk.outcome.unwrap_err().code),
            (None, ErrorCode::F01_INVALID_PACKET)
        );
    }

    /// The Reject a refusal becomes, read back with `htlc`'s codec.
    fn reject_on_the_wire(tables: &SwitchTables, rejection: &Rejection) -> Reject {
        match Packet::decode(&tables.reject(rejection).encode()).unwrap() {
            Packet::Reject(reject) => reject,
            other => panic!("not a reject: {other:?}"),
        }
    }

    #[test]
    fn every_refusal_is_a_reject_triggered_by_this_connector() {
        let mut tables = scenario_tables();
        tables.default_limits.max_packet_amount = Some(50_000);
        let good = packet("test.ecny.bank-b", 100_100, 20_000);
        let nowhere = packet("test.nowhere.x", 100_100, 20_000);
        for (memo, amount, code) in [
            (&b"x"[..], 100_100, ErrorCode::F01_INVALID_PACKET),
            (&nowhere[..], 100_100, ErrorCode::F02_UNREACHABLE),
            (&good[..], 100_000, ErrorCode::F03_INVALID_AMOUNT),
            (&good[..], 100_100, ErrorCode::F08_AMOUNT_TOO_LARGE),
        ] {
            let rejection = run(&tables, memo, amount, 20_000, 0).unwrap_err();
            let reject = reject_on_the_wire(&tables, &rejection);
            assert_eq!(reject.code(), code);
            assert_eq!(reject.triggered_by().map(Address::as_str), Some("test.clearing"));
            assert_eq!(reject.message(), rejection.message);
            assert_eq!(reject.data(), rejection.data);
        }
        let too_large = run(&tables, &good, 100_100, 20_000, 0).unwrap_err();
        assert_eq!(
            reject_on_the_wire(&tables, &too_large).amount_too_large_details(),
            Some(AmountTooLarge {
                received: 100_100,
                maximum: 50_000
            })
        );
    }

    proptest! {
        /// Any refusal has a Reject that the codec reads back: the code, this connector as
        /// `triggeredBy`, the data when it fits and as much of the message as fits.
        #[test]
        fn every_rejection_encodes(
            code in "[FTR][0-9]{2}",
            message in proptest::collection::vec(any::<char>(), 0..3_000),
            data in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let message: String = message.into_iter().collect();
            let rejection = Rejection {
                code: ErrorCode::parse(&code).unwrap(),
                message: message.clone(),
                data: data.clone(),
            };
            let reject = reject_on_the_wire(&scenario_tables(), &rejection);
            prop_assert_eq!(reject.code(), rejection.code);
            prop_assert_eq!(reject.triggered_by().map(Address::as_str), Some("test.clearing"));
            prop_assert!(message.starts_with(reject.message()));
            prop_assert!(reject.message().len() == message.len() || reject.message().len() + 4 > htlc::packet::MAX_MESSAGE_LEN);
            prop_assert_eq!(reject.data(), &data[..]);
        }
    }
}
