//! Quotes (scenario step 2): what a sender must escrow on its ledger to deliver an amount to a
//! destination (or what a source amount delivers), with the fee, the rate, the route, and the
//! expiry its escrow must carry for every hop's timeout ladder to fit. A quote is refused
//! before anything is promised if there is no route or rate, the amount breaks a limit, or the
//! payee's ledger says it cannot receive that much.

use htlc::{Address, Asset, ErrorCode, Timestamp};
use plugins::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::LedgerId;
use crate::layers::limits;
use crate::layers::pricing::{PricingError, Quoted};
use crate::switch::SwitchTables;

/// How long quotes last and how much time senders get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotePolicy {
    /// How long a quote's numbers are promised, ms.
    pub validity_ms: u64,
    /// Time added to the ladder's minimum for the sender to escrow and the payee to claim, ms.
    pub sender_slack_ms: u64,
}

impl Default for QuotePolicy {
    fn default() -> Self {
        QuotePolicy {
            validity_ms: 30_000,
            sender_slack_ms: 5_000,
        }
    }
}

/// A request for a quote. Give exactly one of the two amounts, in minor units, as decimal
/// strings (JSON numbers are accepted too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = QuoteRequest)]
pub struct QuoteRequest {
    /// The ledger the sender pays on.
    pub source_ledger: LedgerId,
    /// The sender's account there (for its limits); optional.
    #[serde(default)]
    pub source_account: Option<AccountId>,
    /// The receiver's ILP address (from its setup response).
    pub destination: Address,
    /// Deliver exactly this much (the source amount is computed, rounding up).
    #[serde(default, with = "opt_u64_text")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,20}$", example = "200000")]
    pub destination_amount: Option<u64>,
    /// Send exactly this much (the destination amount is computed, rounding down).
    #[serde(default, with = "opt_u64_text")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,20}$", example = "100100")]
    pub source_amount: Option<u64>,
}

/// The connector's promise: what to escrow, to whom, with which expiry, to deliver what.
/// Amounts are minor units as decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Quote)]
pub struct Quote {
    /// Quote id.
    pub id: Uuid,
    /// Where the sender escrows.
    pub source_ledger: LedgerId,
    /// The connector's account there: the escrow's payee.
    pub pay_to: AccountId,
    /// What to escrow, source minor units (fee included).
    #[serde(with = "u64_text")]
    #[schema(value_type = String, pattern = "^[0-9]{1,20}$", example = "100100")]
    pub source_amount: u64,
    /// The source asset and scale.
    pub source_asset: Asset,
    /// Where the payee is paid.
    pub destination_ledger: LedgerId,
    /// The payee's account there.
    pub destination_account: AccountId,
    /// What the payee gets, destination minor units.
    #[serde(with = "u64_text")]
    #[schema(value_type = String, pattern = "^[0-9]{1,20}$", example = "200000")]
    pub destination_amount: u64,
    /// The destination asset and scale.
    pub destination_asset: Asset,
    /// The connector's fee, source minor units.
    #[serde(with = "u64_text")]
    #[schema(value_type = String, pattern = "^[0-9]{1,20}$", example = "100")]
    pub fee: u64,
    /// The rate before fees, destination minor units per source minor unit (`n/d`).
    #[schema(example = "2/1")]
    pub rate: String,
    /// The route prefix that matched.
    #[schema(example = "test.ecny")]
    pub route: String,
    /// The escrow's minimum lifetime, ms: escrow with an expiry at least this far ahead.
    pub expiry_window_ms: u64,
    /// `now + expiry_window_ms` at quoting time: the expiry to use if escrowing right away.
    pub expires_at: Timestamp,
    /// The numbers hold until then.
    pub valid_until: Timestamp,
}

/// Why no quote can be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// Neither or both amounts given.
    #[error("give exactly one of destination_amount and source_amount")]
    AmountMissing,
    /// The source ledger is not one of the connector's.
    #[error("unknown source ledger {0}")]
    UnknownLedger(LedgerId),
    /// No route, no rate, or a route back to the source.
    #[error("no route: {0}")]
    NoRoute(String),
    /// The amount is too small to pay the fee, or overflows.
    #[error("{0}")]
    Pricing(#[from] PricingError),
    /// The amount breaks the sender's limits.
    #[error("limit: {0}")]
    Limit(String),
    /// The corridor's timeout ladder does not fit within the connector's maximum hold.
    #[error("no expiry fits this route: {0}")]
    Timeout(String),
    /// The payee cannot receive that much now.
    #[error("payee {account} can receive at most {capacity} now")]
    PayeeCapacity {
        /// The payee.
        account: AccountId,
        /// What it can still receive.
        capacity: u64,
    },
}

/// The parts of a quote that do not depend on the payee's ledger, computed from the tables:
/// the corridor a payment would take ([`SwitchTables::corridor`]), its price, the payer's
/// limits on the source amount, and an expiry that passes the timeout ladder.
pub fn quote(
    tables: &SwitchTables,
    request: &QuoteRequest,
    policy: &QuotePolicy,
    now: Timestamp,
) -> Result<Quote, QuoteError> {
    let corridor = tables
        .corridor(
            &request.source_ledger,
            request.source_account.as_ref(),
            &request.destination,
        )
        .map_err(|rejection| match rejection.code {
            ErrorCode::T00_INTERNAL_ERROR => QuoteError::UnknownLedger(request.source_ledger.clone()),
            _ => QuoteError::NoRoute(rejection.message),
        })?;
    let quoted: Quoted = match (request.destination_amount, request.source_amount) {
        (Some(amount), None) => corridor.pricing.quote_destination(amount)?,
        (None, Some(amount)) => corridor.pricing.quote_source(amount)?,
        _ => return Err(QuoteError::AmountMissing),
    };
    limits::check(&corridor.limits, quoted.source, 0).map_err(|r| QuoteError::Limit(r.message))?;
    let expiry_window_ms = tables
        .expiry
        .required_incoming_window(corridor.finality)
        .saturating_add(policy.sender_slack_ms);
    let after = |ms: u64| {
        now.checked_add_millis(i64::try_from(ms).unwrap_or(i64::MAX))
            .unwrap_or(Timestamp::MAX)
    };
    // The expiry the sender is told to use must pass the ladder the connector applies later.
    tables
        .expiry
        .outgoing_expiry(after(expiry_window_ms), corridor.finality, now)
        .map_err(|r| QuoteError::Timeout(r.message))?;
    Ok(Quote {
        id: Uuid::new_v4(),
        source_ledger: request.source_ledger.clone(),
        pay_to: corridor.incoming.account.clone(),
        source_amount: quoted.source,
        source_asset: corridor.incoming.info.asset.clone(),
        destination_ledger: corridor.hop.ledger,
        destination_account: corridor.hop.account,
        destination_amount: quoted.destination,
        destination_asset: corridor.outgoing.info.asset.clone(),
        fee: quoted.fee,
        rate: corridor.pricing.rate.to_string(),
        route: corridor.hop.prefix,
        expiry_window_ms,
        expires_at: after(expiry_window_ms),
        valid_until: after(policy.validity_ms),
    })
}

/// Serde for a `u64` as a decimal string (amounts can exceed what JSON numbers hold exactly).
pub mod u64_text {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the decimal string.
    pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    /// Reads a decimal string or a JSON number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Text {
            S(String),
            N(u64),
        }
        match Text::deserialize(d)? {
            Text::S(s) => s.parse().map_err(serde::de::Error::custom),
            Text::N(n) => Ok(n),
        }
    }
}

/// [`u64_text`] for optional fields.
pub mod opt_u64_text {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the decimal string or null.
    pub fn serialize<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    /// Reads a decimal string, a JSON number or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        #[derive(serde::Deserialize)]
        struct Wrap(#[serde(with = "super::u64_text")] u64);
        Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::limits::AccountLimits;
    use crate::layers::validate::EscrowTerms;
    use crate::switch::tests::{scenario_tables, t};
    use crate::switch::{Incoming, decide};
    use htlc::{Condition, Prepare};
    use proptest::prelude::*;

    fn request(destination_amount: Option<u64>, source_amount: Option<u64>) -> QuoteRequest {
        QuoteRequest {
            source_ledger: LedgerId::new("digital-euro"),
            source_account: Some(AccountId::new("bank-a").unwrap()),
            destination: Address::new("test.ecny.bank-b.tag1").unwrap(),
            destination_amount,
            source_amount,
        }
    }

    #[test]
    fn two_thousand_dcep_cost_1001_de() {
        let q = quote(
            &scenario_tables(),
            &request(Some(200_000), None),
            &QuotePolicy::default(),
            t(0),
        )
        .unwrap();
        assert_eq!(
            (q.source_amount, q.destination_amount, q.fee),
            (100_100, 200_000, 100)
        );
        assert_eq!(q.pay_to.as_str(), "clearing-bank");
        assert_eq!(q.destination_account.as_str(), "bank-b");
        assert_eq!(q.rate, "2/1");
        // margin 2400 + window 2200 + slack 5000
        assert_eq!(q.expiry_window_ms, 9_600);
        assert_eq!(q.expires_at, t(9_600));
        assert_eq!(q.valid_until, t(30_000));
        let by_source = quote(
            &scenario_tables(),
            &request(None, Some(100_100)),
            &QuotePolicy::default(),
            t(0),
        )
        .unwrap();
        assert_eq!(by_source.destination_amount, 200_000);
    }

    #[test]
    fn a_quoted_expiry_passes_the_ladder() {
        let tables = scenario_tables();
        let q = quote(
            &tables,
            &request(Some(200_000), None),
            &QuotePolicy::default(),
            t(0),
        )
        .unwrap();
        let finality = tables
            .corridor(&q.source_ledger, None, &request(None, None).destination)
            .unwrap()
            .finality;
        // Even escrowed a full slack later, the outgoing leg still fits.
        let late = t(5_000);
        assert!(
            tables
                .expiry
                .outgoing_expiry(q.expires_at, finality, late)
                .is_ok()
        );
    }

    #[test]
    fn refusals() {
        let tables = scenario_tables();
        let policy = QuotePolicy::default();
        assert_eq!(
            quote(&tables, &request(None, None), &policy, t(0)),
            Err(QuoteError::AmountMissing)
        );
        assert_eq!(
            quote(&tables, &request(Some(1), Some(1)), &policy, t(0)),
            Err(QuoteError::AmountMissing)
        );
        let mut r = request(Some(1), None);
        r.destination = Address::new("test.nowhere.x").unwrap();
        assert!(matches!(
            quote(&tables, &r, &policy, t(0)),
            Err(QuoteError::NoRoute(_))
        ));
        assert!(matches!(
            quote(&tables, &request(None, Some(100)), &policy, t(0)),
            Err(QuoteError::Pricing(PricingError::NothingToDeliver { .. }))
        ));
        let mut slow = tables.clone();
        slow.expiry.max_hold_ms = 1_000;
        assert!(matches!(
            quote(&slow, &request(Some(200_000), None), &policy, t(0)),
            Err(QuoteError::Timeout(_))
        ));
        let mut limited = tables.clone();
        limited.default_limits.max_packet_amount = Some(50_000);
        assert!(matches!(
            quote(&limited, &request(Some(200_000), None), &policy, t(0)),
            Err(QuoteError::Limit(_))
        ));
        // A ledger-wide packet limit applies whether or not the quote names its payer.
        let mut ledger_limited = tables.clone();
        ledger_limited.ledger_limits.insert(
            LedgerId::new("digital-euro"),
            limits::AccountLimits {
                max_packet_amount: Some(50_000),
                exposure_limit: None,
            },
        );
        let mut anonymous = request(Some(200_000), None);
        anonymous.source_account = None;
        for r in [request(Some(200_000), None), anonymous.clone()] {
            assert!(matches!(
                quote(&ledger_limited, &r, &policy, t(0)),
                Err(QuoteError::Limit(_))
            ));
        }
        anonymous.destination_amount = Some(90_000);
        assert!(quote(&ledger_limited, &anonymous, &policy, t(0)).is_ok());
        let json = r#"{"source_ledger":"digital-euro","destination":"test.ecny.bank-b.x","destination_amount":"200000"}"#;
        let parsed: QuoteRequest = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.destination_amount, Some(200_000));
    }

    proptest! {
        /// A quote is given exactly when the payment it describes would be forwarded: one
        /// corridor lookup and the same limits serve both, wherever the limits are set. (A quote
        /// naming no payer meets the ledger-wide limits, which a payer's own replace.)
        #[test]
        fn a_quote_is_given_exactly_when_its_payment_is_forwarded(
            destination_amount in 1u64..400_000,
            max_packet_amount in 0u64..300_000,
            set_on in 0usize..3,
            payer_named in any::<bool>(),
        ) {
            prop_assume!(payer_named || set_on != 2);
            let de = LedgerId::new("digital-euro");
            let bank_a = AccountId::new("bank-a").unwrap();
            let mut tables = scenario_tables();
            let limits = AccountLimits { max_packet_amount: Some(max_packet_amount), exposure_limit: None };
            match set_on {
                0 => tables.default_limits = limits,
                1 => { tables.ledger_limits.insert(de.clone(), limits); }
                _ => { tables.limits.insert((de.clone(), bank_a.clone()), limits); }
            }
            let mut r = request(Some(destination_amount), None);
            if !payer_named {
                r.source_account = None;
            }
            let policy = QuotePolicy::default();
            let quoted = quote(&tables, &r, &policy, t(0));
            let corridor = tables.corridor(&de, Some(&bank_a), &r.destination).unwrap();
            let source_amount = corridor.pricing.quote_destination(destination_amount).unwrap().source;
            // The payment the quote describes, escrowed at once with the expiry a quote asks for.
            let expires_at = t(9_600);
            let condition = Condition::from_bytes([5; 32]);
            let memo = Prepare::new(r.destination.clone(), source_amount, expires_at, condition, vec![])
                .unwrap()
                .encode();
            let escrow = EscrowTerms { amount: source_amount, condition: &condition, expires_at, memo: &memo };
            let payment = decide(&tables, Incoming { ledger: &de, from: &bank_a, escrow }, 0, t(0)).outcome;
            prop_assert_eq!(quoted.is_ok(), payment.is_ok(), "quote {:?}, payment {:?}", quoted, payment);
            if let (Ok(q), Ok(forward)) = (quoted, payment) {
                prop_assert_eq!(q.expires_at, expires_at);
                prop_assert_eq!((q.source_amount, q.fee), (source_amount, forward.fee));
                prop_assert!(forward.amount() >= q.destination_amount);
            }
        }
    }
}
