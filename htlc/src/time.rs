//! Instants in UTC with millisecond precision, in the two text forms CypherLink meets: the ILP
//! packet's fixed 17-character `YYYYMMDDHHmmSSfff` and RFC 3339 for JSON. Also the [`Clock`]
//! trait through which every expiry decision reads the time, so tests can drive time by hand.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Length of the ILP packet timestamp field: `YYYYMMDDHHmmSSfff`.
pub const ILP_TIMESTAMP_LEN: usize = 17;

const MS_PER_DAY: i64 = 86_400_000;
/// 0000-01-01T00:00:00.000Z, the earliest instant the 4-digit year form can express.
const MIN_MS: i64 = -62_167_219_200_000;
/// 9999-12-31T23:59:59.999Z, the latest.
const MAX_MS: i64 = 253_402_300_799_999;

/// An instant as milliseconds since the Unix epoch, restricted to years 0000-9999 so that every
/// value has an ILP timestamp form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a timestamp could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The value lies outside years 0000-9999.
    #[error("timestamp {millis} ms is outside years 0000-9999")]
    OutOfRange {
        /// The offending value, in milliseconds since the Unix epoch.
        millis: i64,
    },
    /// The ILP form has a non-digit character or an impossible calendar field.
    #[error("invalid ILP timestamp {text:?}: {reason}")]
    InvalidIlpForm {
        /// The 17 bytes as read (lossily decoded).
        text: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// Not an RFC 3339 date-time.
    #[error("invalid RFC 3339 timestamp {text:?}")]
    InvalidRfc3339 {
        /// The text as given.
        text: String,
    },
}

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);
    /// The latest representable instant.
    pub const MAX: Timestamp = Timestamp(MAX_MS);

    /// Builds a timestamp from milliseconds since the Unix epoch.
    pub fn from_unix_millis(millis: i64) -> Result<Self, TimestampError> {
        if (MIN_MS..=MAX_MS).contains(&millis) {
            Ok(Timestamp(millis))
        } else {
            Err(TimestampError::OutOfRange { millis })
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (rounded down, also before 1970), as request
    /// signatures carry them.
    pub fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant moved by `millis` (negative moves back); `None` if it leaves the range.
    pub fn checked_add_millis(self, millis: i64) -> Option<Self> {
        self.0
            .checked_add(millis)
            .and_then(|m| Self::from_unix_millis(m).ok())
    }

    /// Milliseconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0 - earlier.0
    }

    /// Parses the ILP packet form `YYYYMMDDHHmmSSfff` (UTC), validating every calendar field.
    pub fn from_ilp_bytes(bytes: &[u8; ILP_TIMESTAMP_LEN]) -> Result<Self, TimestampError> {
        let invalid = |reason| TimestampError::InvalidIlpForm {
            text: String::from_utf8_lossy(bytes).into_owned(),
            reason,
        };
        let mut digits = [0i64; ILP_TIMESTAMP_LEN];
        for (d, &b) in digits.iter_mut().zip(bytes.iter()) {
            if !b.is_ascii_digit() {
                return Err(invalid("non-digit character"));
            }
            *d = i64::from(b - b'0');
        }
        let num = |range: std::ops::Range<usize>| digits[range].iter().fold(0i64, |a, d| a * 10 + d);
        let (year, month, day) = (num(0..4), num(4..6), num(6..8));
        let (hour, minute, second, milli) = (num(8..10), num(10..12), num(12..14), num(14..17));
        if !(1..=12).contains(&month) {
            return Err(invalid("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(invalid("day out of range"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(invalid("time of day out of range"));
        }
        let days = days_from_civil(year, month, day);
        Ok(Timestamp(
            days * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + milli,
        ))
    }

    /// Writes the ILP packet form `YYYYMMDDHHmmSSfff`.
    pub fn to_ilp_bytes(self) -> [u8; ILP_TIMESTAMP_LEN] {
        let f = self.fields();
        let mut out = [b'0'; ILP_TIMESTAMP_LEN];
        let mut put = |at: usize, width: usize, mut value: i64| {
            for i in (at..at + width).rev() {
                // Every field of a timestamp in years 0000-9999 is non-negative.
                out[i] = b'0' + u8::try_from(value % 10).expect("a field's digit is 0-9");
                value /= 10;
            }
        };
        put(0, 4, f.year);
        put(4, 2, f.month);
        put(6, 2, f.day);
        put(8, 2, f.hour);
        put(10, 2, f.minute);
        put(12, 2, f.second);
        put(14, 3, f.milli);
        out
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2017-12-23T01:21:40.549Z`.
    pub fn to_rfc3339(self) -> String {
        let f = self.fields();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            f.year, f.month, f.day, f.hour, f.minute, f.second, f.milli
        )
    }

    /// Parses any RFC 3339 date-time (any offset); sub-millisecond digits are truncated.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        let invalid = || TimestampError::InvalidRfc3339 {
            text: text.to_owned(),
        };
        let parsed = chrono::DateTime::parse_from_rfc3339(text).map_err(|_| invalid())?;
        Self::from_unix_millis(parsed.timestamp_millis())
    }

    fn fields(self) -> Fields {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Fields {
            year,
            month,
            day,
            hour: ms_of_day / 3_600_000,
            minute: ms_of_day / 60_000 % 60,
            second: ms_of_day / 1000 % 60,
            milli: ms_of_day % 1000,
        }
    }
}

struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era-based algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_rfc3339(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

impl From<Timestamp> for chrono::DateTime<chrono::Utc> {
    fn from(t: Timestamp) -> Self {
        // Every Timestamp is within chrono's range, so this cannot fail.
        chrono::DateTime::from_timestamp_millis(t.0).unwrap_or_default()
    }
}

impl TryFrom<chrono::DateTime<chrono::Utc>> for Timestamp {
    type Error = TimestampError;
    fn try_from(t: chrono::DateTime<chrono::Utc>) -> Result<Self, Self::Error> {
        Self::from_unix_millis(t.timestamp_millis())
    }
}

/// The source of "now" for every time-dependent decision (expiries, timeouts).
///
/// Production code passes [`SystemClock`]; tests pass a [`ManualClock`] and move it explicitly.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The machine's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(MAX_MS))
            .unwrap_or(0);
        Timestamp(millis.clamp(MIN_MS, MAX_MS))
    }
}

/// A clock that only moves when told to; shareable between threads.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(AtomicI64::new(start.0))
    }

    /// Sets the time (backwards too, to test clock skew).
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }

    /// Moves the clock forward by `millis`, saturating at the latest representable instant.
    pub fn advance_millis(&self, millis: i64) {
        let _ = self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
            Some(m.saturating_add(millis).clamp(MIN_MS, MAX_MS))
        });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// The wall clock moved forward by an adjustable offset. For tests of processes that run on
/// real time (consensus timers, HTTP timeouts) but must reach an expiry without waiting for it.
#[derive(Debug, Default)]
pub struct OffsetClock(AtomicI64);

impl OffsetClock {
    /// The wall clock, not yet moved.
    pub fn new() -> Self {
        OffsetClock(AtomicI64::new(0))
    }

    /// Moves the clock forward by `millis` (on top of the time that passes anyway).
    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis.max(0), Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        let wall = SystemClock.now().0;
        Timestamp(
            wall.saturating_add(self.0.load(Ordering::SeqCst))
                .clamp(MIN_MS, MAX_MS),
        )
    }
}

/// An instant is a clock that stands still: what a ledger that judges expiries by an agreed
/// time (the chain, by its block's timestamp) passes to the escrow state machine.
impl Clock for Timestamp {
    fn now(&self) -> Timestamp {
        *self
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ilp(s: &str) -> Result<Timestamp, TimestampError> {
        Timestamp::from_ilp_bytes(s.as_bytes().try_into().unwrap())
    }

    #[test]
    fn parses_the_ilp_packet_example() {
        let t = ilp("20171223012140549").unwrap();
        assert_eq!(t.to_rfc3339(), "2017-12-23T01:21:40.549Z");
        assert_eq!(t.unix_millis(), 1_513_992_100_549);
        assert_eq!(&t.to_ilp_bytes(), b"20171223012140549");
    }

    #[test]
    fn rejects_impossible_calendar_fields() {
        for bad in [
            "20170230000000000", // 30 February
            "20190229000000000", // not a leap year
            "20171323000000000", // month 13
            "20170000000000000", // month 0
            "20171200000000000", // day 0
            "20171223240000000", // hour 24
            "20171223006000000", // minute 60
            "20171223000060000", // second 60
            "2017122300000000Z", // non-digit
            "2017-12-23T000000",
        ] {
            assert!(ilp(bad).is_err(), "{bad} should be rejected");
        }
        assert!(ilp("20200229235959999").is_ok(), "leap day");
        assert!(ilp("00000101000000000").is_ok());
        assert!(ilp("99991231235959999").is_ok());
    }

    #[test]
    fn range_is_enforced() {
        assert!(Timestamp::from_unix_millis(MAX_MS + 1).is_err());
        assert!(Timestamp::from_unix_millis(MIN_MS - 1).is_err());
        assert_eq!(Timestamp::MAX.checked_add_millis(1), None);
        assert_eq!(&Timestamp::MAX.to_ilp_bytes(), b"99991231235959999");
    }

    #[test]
    fn rfc3339_accepts_offsets_and_serde_round_trips() {
        let a = Timestamp::parse_rfc3339("2017-12-23T02:21:40.549+01:00").unwrap();
        assert_eq!(a.to_rfc3339(), "2017-12-23T01:21:40.549Z");
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"2017-12-23T01:21:40.549Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), a);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
        assert_eq!(clock.now(), Timestamp::UNIX_EPOCH);
        clock.advance_millis(1500);
        assert_eq!(clock.now().unix_millis(), 1500);
        clock.set(Timestamp::from_unix_millis(7).unwrap());
        assert_eq!(clock.now().unix_millis(), 7);
    }

    proptest! {
        #[test]
        fn ilp_form_round_trips(ms in MIN_MS..=MAX_MS) {
            let t = Timestamp::from_unix_millis(ms).unwrap();
            prop_assert_eq!(Timestamp::from_ilp_bytes(&t.to_ilp_bytes()).unwrap(), t);
            prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
        }

        #[test]
        fn ilp_parser_never_panics(bytes in proptest::array::uniform17(any::<u8>())) {
            let _ = Timestamp::from_ilp_bytes(&bytes);
        }
    }
}
