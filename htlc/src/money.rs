//! Money as integers: amounts are `u64` minor units of an [`Asset`] with a decimal scale, and
//! exchange rates are exact fractions. No floating point touches money.
//!
//! Rounding rules (each protects the party that bears the risk):
//! - **Forwarding rounds down.** A connector that converts an incoming amount pays out
//!   `floor(amount × rate)`, so it never pays more than the rate allows.
//! - **Quoting rounds up.** The source amount needed to deliver a destination amount is
//!   `ceil(amount ÷ rate)`, so forwarding it always delivers at least what was quoted.
//! - **Overflow is an error**, never a wrap or a saturation.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // money and limits: every sum is checked

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest asset scale: 10^19 overflows `u64`.
pub const MAX_SCALE: u8 = 18;
/// The longest asset code (bytes; every allowed character is one byte). The chain encodes a
/// code with a length prefix and refuses longer ones, so this bound is part of its wire format.
pub const MAX_ASSET_CODE_LEN: usize = 32;

/// What went wrong with an amount, rate or asset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The result does not fit in `u64`.
    #[error("amount overflow")]
    Overflow,
    /// A rate of zero, or a fraction with a zero denominator.
    #[error("rate must be a positive fraction, got {numerator}/{denominator}")]
    InvalidRate {
        /// Numerator given.
        numerator: u128,
        /// Denominator given.
        denominator: u128,
    },
    /// A decimal string that is not a non-negative number with at most `scale` decimals.
    #[error("invalid decimal {text:?}: {reason}")]
    InvalidDecimal {
        /// The text given.
        text: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// Scale above [`MAX_SCALE`].
    #[error("asset scale {scale} exceeds {MAX_SCALE}")]
    ScaleTooLarge {
        /// The scale given.
        scale: u8,
    },
    /// Asset code empty, longer than [`MAX_ASSET_CODE_LEN`], or with characters outside
    /// `A-Z a-z 0-9 / : . _ -`.
    #[error("invalid asset code {code:?}")]
    InvalidAssetCode {
        /// The code given.
        code: String,
    },
}

/// An asset code such as `EUR`, `DE` (digital euro), `DC/EP` (e-CNY) or `iso4217:EUR`: 1 to
/// [`MAX_ASSET_CODE_LEN`] characters of `A-Z a-z 0-9 / : . _ -`.
///
/// The one rule for every ledger, the chain included, so a code valid on one ledger is valid on
/// all of them. `/` is what central banks write (DC/EP); `:` lets a code carry a namespace.
/// Codes compare and sort as their bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetCode(String);

impl AssetCode {
    /// Validates and wraps a code.
    pub fn new(code: impl Into<String>) -> Result<Self, MoneyError> {
        let code = code.into();
        let ok = !code.is_empty()
            && code.len() <= MAX_ASSET_CODE_LEN
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'_' | b'-'));
        if ok {
            Ok(AssetCode(code))
        } else {
            Err(MoneyError::InvalidAssetCode { code })
        }
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AssetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AssetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AssetCode({})", self.0)
    }
}

impl FromStr for AssetCode {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AssetCode::new(s)
    }
}

impl Serialize for AssetCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AssetCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AssetCode::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// An asset and the number of decimal places its minor unit has (EUR cents: scale 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Asset {
    /// The asset code.
    pub code: AssetCode,
    /// Decimal places of the minor unit.
    #[cfg_attr(feature = "openapi", schema(maximum = 18))]
    pub scale: u8,
}

impl Asset {
    /// Validates the scale.
    pub fn new(code: AssetCode, scale: u8) -> Result<Self, MoneyError> {
        if scale > MAX_SCALE {
            return Err(MoneyError::ScaleTooLarge { scale });
        }
        Ok(Asset { code, scale })
    }

    /// `minor` units shown as a decimal with the asset code, e.g. `1001.00 DE`.
    pub fn display(&self, minor: u64) -> String {
        format!("{} {}", format_decimal(minor, self.scale), self.code)
    }
}

/// `minor` units as a decimal string with exactly `scale` decimals (`100100`, 2 -> `1001.00`).
pub fn format_decimal(minor: u64, scale: u8) -> String {
    if scale == 0 {
        return minor.to_string();
    }
    let digits = format!("{:0>width$}", minor, width = usize::from(scale) + 1);
    // `digits` has at least `scale + 1` characters (the width above).
    let (whole, frac) = digits.split_at(digits.len().saturating_sub(usize::from(scale)));
    format!("{whole}.{frac}")
}

/// Parses a non-negative decimal into minor units at `scale`; more decimals than the scale
/// allows is an error (it would silently lose money), fewer are padded.
pub fn parse_decimal(text: &str, scale: u8) -> Result<u64, MoneyError> {
    let invalid = |reason| MoneyError::InvalidDecimal {
        text: text.to_owned(),
        reason,
    };
    if scale > MAX_SCALE {
        return Err(MoneyError::ScaleTooLarge { scale });
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("expected digits before the decimal point"));
    }
    if text.contains('.') && frac.is_empty() {
        return Err(invalid("expected digits after the decimal point"));
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("expected digits after the decimal point"));
    }
    if frac.len() > usize::from(scale) {
        return Err(invalid("more decimal places than the asset scale"));
    }
    let mut value: u64 = 0;
    let padded = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(usize::from(scale));
    for b in whole.bytes().chain(padded) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b.checked_sub(b'0')?)))
            .ok_or(MoneyError::Overflow)?;
    }
    Ok(value)
}

/// An exchange rate as an exact fraction: destination minor units per source minor unit.
///
/// Kept in lowest terms, so equal rates compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    numerator: u128,
    denominator: u128,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    // `checked_rem` is `None` exactly when `b` is zero: the loop's end.
    while let Some(rest) = a.checked_rem(b) {
        (a, b) = (b, rest);
    }
    a
}

fn pow10(exp: u8) -> u128 {
    10u128.pow(u32::from(exp))
}

impl Rate {
    /// The rate `numerator / denominator` in minor units; both must be positive.
    pub fn new(numerator: u128, denominator: u128) -> Result<Self, MoneyError> {
        if numerator == 0 || denominator == 0 {
            return Err(MoneyError::InvalidRate {
                numerator,
                denominator,
            });
        }
        let invalid = MoneyError::InvalidRate {
            numerator,
            denominator,
        };
        // Both are positive, so their divisor is too.
        let g = gcd(numerator, denominator);
        Ok(Rate {
            numerator: numerator.checked_div(g).ok_or(invalid.clone())?,
            denominator: denominator.checked_div(g).ok_or(invalid)?,
        })
    }

    /// One to one.
    pub const ONE: Rate = Rate {
        numerator: 1,
        denominator: 1,
    };

    /// A rate quoted the way people write it — destination major units per source major unit,
    /// as a decimal such as `"2"` or `"0.1375"` — converted to minor units of each side.
    pub fn from_decimal(text: &str, source_scale: u8, destination_scale: u8) -> Result<Self, MoneyError> {
        if source_scale > MAX_SCALE || destination_scale > MAX_SCALE {
            return Err(MoneyError::ScaleTooLarge {
                scale: source_scale.max(destination_scale),
            });
        }
        let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
        let decimals = u8::try_from(decimals)
            .ok()
            .filter(|d| *d <= MAX_SCALE)
            .ok_or_else(|| MoneyError::InvalidDecimal {
                text: text.to_owned(),
                reason: "too many decimal places",
            })?;
        let mantissa = parse_decimal(text, decimals)?;
        // major rate m / 10^d; minor rate = m * 10^dst / (10^d * 10^src).
        let numerator = u128::from(mantissa)
            .checked_mul(pow10(destination_scale))
            .ok_or(MoneyError::Overflow)?;
        let denominator = pow10(decimals)
            .checked_mul(pow10(source_scale))
            .ok_or(MoneyError::Overflow)?;
        Rate::new(numerator, denominator)
    }

    /// The numerator in lowest terms.
    pub fn numerator(&self) -> u128 {
        self.numerator
    }

    /// The denominator in lowest terms.
    pub fn denominator(&self) -> u128 {
        self.denominator
    }

    /// The reverse conversion.
    pub fn inverse(&self) -> Rate {
        Rate {
            numerator: self.denominator,
            denominator: self.numerator,
        }
    }

    /// Converts a source amount to the destination amount to forward: `floor(amount × rate)`.
    pub fn forward(&self, source_amount: u64) -> Result<u64, MoneyError> {
        let product = u128::from(source_amount)
            .checked_mul(self.numerator)
            .ok_or(MoneyError::Overflow)?;
        let quotient = product
            .checked_div(self.denominator)
            .ok_or(MoneyError::Overflow)?;
        u64::try_from(quotient).map_err(|_| MoneyError::Overflow)
    }

    /// The smallest source amount whose forwarded value is at least `destination_amount`:
    /// `ceil(amount ÷ rate)`.
    pub fn source_for(&self, destination_amount: u64) -> Result<u64, MoneyError> {
        let product = u128::from(destination_amount)
            .checked_mul(self.denominator)
            .ok_or(MoneyError::Overflow)?;
        u64::try_from(product.div_ceil(self.numerator)).map_err(|_| MoneyError::Overflow)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl FromStr for Rate {
    type Err = MoneyError;
    /// Parses `"numerator/denominator"` in minor units.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| MoneyError::InvalidDecimal {
            text: s.to_owned(),
            reason,
        };
        let (n, d) = s
            .split_once('/')
            .ok_or_else(|| invalid("expected numerator/denominator"))?;
        let n = n
            .trim()
            .parse()
            .map_err(|_| invalid("numerator is not an integer"))?;
        let d = d
            .trim()
            .parse()
            .map_err(|_| invalid("denominator is not an integer"))?;
        Rate::new(n, d)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_scenario_rate_delivers_exactly() {
        // 1 DE = 2 DC/EP, both with scale 2: 1000.00 DE forwards as 2000.00 DC/EP.
        let rate = Rate::from_decimal("2", 2, 2).unwrap();
        assert_eq!(rate.forward(100_000), Ok(200_000));
        assert_eq!(rate.source_for(200_000), Ok(100_000));
    }

    #[test]
    fn forwarding_rounds_down_and_quoting_rounds_up() {
        let third = Rate::new(1, 3).unwrap();
        assert_eq!(third.forward(10), Ok(3));
        assert_eq!(third.source_for(3), Ok(9));
        assert_eq!(third.source_for(4), Ok(12));
        let rate = Rate::from_decimal("0.1375", 2, 2).unwrap();
        assert_eq!(rate.forward(1000), Ok(137));
        assert_eq!(rate.source_for(137), Ok(997), "ceil(137 / 0.1375) = ceil(996.36)");
        assert_eq!(rate.forward(997), Ok(137));
    }

    #[test]
    fn scales_are_applied() {
        // EUR (scale 2) -> a scale-9 asset at 1.5.
        let rate = Rate::from_decimal("1.5", 2, 9).unwrap();
        assert_eq!(rate.forward(100), Ok(1_500_000_000));
        assert_eq!(rate, Rate::new(15_000_000, 1).unwrap());
    }

    #[test]
    fn overflow_is_an_error() {
        let big = Rate::new(2, 1).unwrap();
        assert_eq!(big.forward(u64::MAX), Err(MoneyError::Overflow));
        assert_eq!(big.inverse().source_for(u64::MAX), Err(MoneyError::Overflow));
        assert_eq!(
            parse_decimal("18446744073709551616", 0),
            Err(MoneyError::Overflow)
        );
        assert!(Rate::new(0, 1).is_err());
        assert!(Rate::new(1, 0).is_err());
    }

    #[test]
    fn decimals_parse_and_format() {
        assert_eq!(parse_decimal("1001", 2), Ok(100_100));
        assert_eq!(parse_decimal("1001.5", 2), Ok(100_150));
        assert_eq!(parse_decimal("0.01", 2), Ok(1));
        assert!(
            parse_decimal("0.001", 2).is_err(),
            "would lose a fraction of a cent"
        );
        for bad in ["", ".5", "5.", "-1", "1e3", "1,00", " 1"] {
            assert!(parse_decimal(bad, 2).is_err(), "{bad:?}");
        }
        assert_eq!(format_decimal(100_100, 2), "1001.00");
        assert_eq!(format_decimal(5, 2), "0.05");
        assert_eq!(format_decimal(5, 0), "5");
        let de = Asset::new(AssetCode::new("DE").unwrap(), 2).unwrap();
        assert_eq!(de.display(100_100), "1001.00 DE");
        assert!(Asset::new(AssetCode::new("X").unwrap(), 19).is_err());
    }

    #[test]
    fn asset_codes_follow_one_rule() {
        for good in [
            "DC/EP",
            "DE",
            "EUR",
            "e-CNY",
            "iso4217:EUR",
            "x.y_z",
            &"A".repeat(32),
        ] {
            assert_eq!(AssetCode::new(good).map(|c| c.to_string()), Ok(good.to_owned()));
        }
        for bad in ["", "E U R", "EUR\n", "€", "DC\\EP", "a+b", "a,b", &"A".repeat(33)] {
            assert_eq!(
                AssetCode::new(bad),
                Err(MoneyError::InvalidAssetCode { code: bad.to_owned() }),
                "{bad:?}"
            );
        }
        assert!(serde_json::from_str::<AssetCode>("\"DC EP\"").is_err());
    }

    #[test]
    fn rate_text_forms_round_trip() {
        let r = Rate::new(6, 4).unwrap();
        assert_eq!(r.to_string(), "3/2");
        assert_eq!("3/2".parse::<Rate>(), Ok(r));
        assert_eq!(
            serde_json::from_str::<Rate>(&serde_json::to_string(&r).unwrap()).unwrap(),
            r
        );
    }

    proptest! {
        #[test]
        fn quoting_then_forwarding_delivers_at_least_the_quote(
            n in 1u128..1_000_000, d in 1u128..1_000_000, want in 0u64..1_000_000_000_000,
        ) {
            let rate = Rate::new(n, d).unwrap();
            if let Ok(source) = rate.source_for(want) {
                let delivered = rate.forward(source).unwrap();
                prop_assert!(delivered >= want);
                // And it is the smallest such source amount.
                if source > 0 {
                    prop_assert!(rate.forward(source - 1).unwrap() < want);
                }
            }
        }

        #[test]
        fn forwarding_never_exceeds_the_exact_rate(n in 1u128..1_000_000, d in 1u128..1_000_000, amount in any::<u64>()) {
            let rate = Rate::new(n, d).unwrap();
            if let Ok(out) = rate.forward(amount) {
                prop_assert!(u128::from(out) * d <= u128::from(amount) * n);
            }
        }

        /// Every code the rule allows survives text, `FromStr` and JSON unchanged; any other
        /// character anywhere makes it invalid.
        #[test]
        fn asset_codes_round_trip(
            code in "[A-Za-z0-9/:._-]{1,32}",
            bad in "[^A-Za-z0-9/:._-]",
            at in 0usize..32,
        ) {
            let parsed: AssetCode = code.parse().unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
            prop_assert_eq!(parsed.to_string().parse::<AssetCode>(), Ok(parsed.clone()));
            let json = serde_json::to_string(&parsed).unwrap();
            prop_assert_eq!(serde_json::from_str::<AssetCode>(&json).unwrap(), parsed);
            let mut spoiled = code.clone();
            spoiled.insert_str(at.min(code.len()), &bad);
            prop_assert!(AssetCode::new(spoiled).is_err());
        }

        #[test]
        fn decimal_round_trip(minor in any::<u64>(), scale in 0u8..=MAX_SCALE) {
            prop_assert_eq!(parse_decimal(&format_decimal(minor, scale), scale), Ok(minor));
        }
    }
}
