//! ILPv4 packets (RFC 27) in their OER wire form: Prepare (type 12), Fulfill (13), Reject (14).
//!
//! Every packet is an envelope `type: u8 | length | contents`. Decoding checks every length
//! against the field's limit before reading, never panics, and names the field at fault. Bytes
//! after the last field and after the envelope are ignored, as the reference implementations
//! do, so future extensions still parse. Encoding is canonical (shortest length prefixes), so
//! `encode(decode(x)) == x` for every canonical packet.
//!
//! Constructors validate field limits, so every value of these types can be encoded and
//! `encode` cannot fail. Connectors that only change the amount and expiry of a Prepare can use
//! [`PrepareBytesMut`] to rewrite them in place.

use std::fmt;

use crate::address::{Address, AddressError, MAX_ADDRESS_LEN};
use crate::condition::{Condition, Fulfillment};
use crate::error_code::{ErrorCode, InvalidErrorCode};
use crate::oer::{self, Reader};
use crate::time::{ILP_TIMESTAMP_LEN, Timestamp, TimestampError};

/// Largest `data` of any packet (RFC 27).
pub const MAX_DATA_LEN: usize = 32_767;
/// Largest Reject `message`.
pub const MAX_MESSAGE_LEN: usize = 8_191;
/// Largest envelope contents: a Prepare with every variable field at its maximum.
pub const MAX_CONTENTS_LEN: usize = PREPARE_FIXED_LEN + 3 + MAX_ADDRESS_LEN + 3 + MAX_DATA_LEN;
/// Amount (8) + expiresAt (17) + executionCondition (32).
const PREPARE_FIXED_LEN: usize = 8 + ILP_TIMESTAMP_LEN + 32;

/// The packet type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// A conditional transfer offer.
    Prepare = 12,
    /// The preimage that accepts it.
    Fulfill = 13,
    /// A refusal with an error code.
    Reject = 14,
}

impl PacketType {
    /// Maps the wire byte to a type.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            12 => Some(PacketType::Prepare),
            13 => Some(PacketType::Fulfill),
            14 => Some(PacketType::Reject),
            _ => None,
        }
    }
}

/// The packet field an error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The envelope's type byte.
    Type,
    /// The envelope's contents.
    Envelope,
    /// Prepare amount.
    Amount,
    /// Prepare expiry.
    ExpiresAt,
    /// Prepare condition.
    ExecutionCondition,
    /// Prepare destination address.
    Destination,
    /// End-to-end data of any packet.
    Data,
    /// Fulfill preimage.
    Fulfillment,
    /// Reject error code.
    Code,
    /// Reject triggeredBy address.
    TriggeredBy,
    /// Reject message.
    Message,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Type => "type",
            Field::Envelope => "envelope",
            Field::Amount => "amount",
            Field::ExpiresAt => "expiresAt",
            Field::ExecutionCondition => "executionCondition",
            Field::Destination => "destination",
            Field::Data => "data",
            Field::Fulfillment => "fulfillment",
            Field::Code => "code",
            Field::TriggeredBy => "triggeredBy",
            Field::Message => "message",
        })
    }
}

/// Why bytes are not a valid packet, or why fields cannot form one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The input ends inside a field.
    #[error("truncated {field}: needed {needed} bytes, {available} available")]
    Truncated {
        /// The field being read.
        field: Field,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// The type byte is not 12, 13 or 14.
    #[error("unknown packet type {found}")]
    UnknownType {
        /// The type byte found.
        found: u8,
    },
    /// A known type, but not the one asked for.
    #[error("expected a {expected:?} packet, found type {found}")]
    UnexpectedType {
        /// What the caller asked for.
        expected: PacketType,
        /// The type byte found.
        found: u8,
    },
    /// The length prefix is malformed (indefinite form, or more length bytes than any field needs).
    #[error("bad length prefix 0x{byte:02x} for {field}")]
    BadLengthPrefix {
        /// The field.
        field: Field,
        /// The first prefix byte.
        byte: u8,
    },
    /// The length prefix is longer than needed.
    #[error("non-canonical length prefix for {field}")]
    NonCanonicalLength {
        /// The field.
        field: Field,
    },
    /// The field exceeds its RFC 27 limit.
    #[error("{field} is {len} bytes, more than the {max} allowed")]
    TooLong {
        /// The field.
        field: Field,
        /// Its length.
        len: usize,
        /// Its limit.
        max: usize,
    },
    /// The expiry is not a valid `YYYYMMDDHHmmSSfff` timestamp.
    #[error("bad expiresAt: {0}")]
    BadTimestamp(#[from] TimestampError),
    /// An address field breaks RFC 15.
    #[error("bad {field} address: {source}")]
    BadAddress {
        /// Destination or triggeredBy.
        field: Field,
        /// The address rule broken.
        source: AddressError,
    },
    /// The reject code is not three IA5 characters.
    #[error("bad reject code: {0}")]
    BadErrorCode(#[from] InvalidErrorCode),
    /// The reject message is not UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: Field,
    },
}

/// An offer to pay `amount` to `destination` if the receiver reveals the preimage of
/// `execution_condition` before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepare {
    amount: u64,
    expires_at: Timestamp,
    execution_condition: Condition,
    destination: Address,
    data: Vec<u8>,
}

/// Acceptance of a Prepare: the preimage of its condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfill {
    fulfillment: Fulfillment,
    data: Vec<u8>,
}

/// Refusal of a Prepare, with an error code and the address of the party that refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    code: ErrorCode,
    triggered_by: Option<Address>,
    message: String,
    data: Vec<u8>,
}

/// Any ILP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Type 12.
    Prepare(Prepare),
    /// Type 13.
    Fulfill(Fulfill),
    /// Type 14.
    Reject(Reject),
}

fn check_len(field: Field, len: usize, max: usize) -> Result<(), PacketError> {
    if len > max {
        Err(PacketError::TooLong { field, len, max })
    } else {
        Ok(())
    }
}

impl Prepare {
    /// Builds a Prepare, checking the data limit (the address type already enforces its own).
    pub fn new(
        destination: Address,
        amount: u64,
        expires_at: Timestamp,
        execution_condition: Condition,
        data: Vec<u8>,
    ) -> Result<Self, PacketError> {
        check_len(Field::Data, data.len(), MAX_DATA_LEN)?;
        Ok(Prepare {
            amount,
            expires_at,
            execution_condition,
            destination,
            data,
        })
    }

    /// Amount in the minor units of the link it travels on.
    pub fn amount(&self) -> u64 {
        self.amount
    }
    /// When the offer lapses.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
    /// The hash lock.
    pub fn execution_condition(&self) -> &Condition {
        &self.execution_condition
    }
    /// The receiver's address.
    pub fn destination(&self) -> &Address {
        &self.destination
    }
    /// End-to-end data; connectors never change it.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// Sets the amount, as each connector does after converting.
    pub fn set_amount(&mut self, amount: u64) {
        self.amount = amount;
    }
    /// Sets the expiry, as each connector does when shortening it.
    pub fn set_expires_at(&mut self, expires_at: Timestamp) {
        self.expires_at = expires_at;
    }

    /// Decodes a Prepare; any other type is [`PacketError::UnexpectedType`].
    pub fn decode(bytes: &[u8]) -> Result<Self, PacketError> {
        decode_as(bytes)
    }

    /// The canonical wire form.
    pub fn encode(&self) -> Vec<u8> {
        encode_as(self)
    }
}

impl Contents for Prepare {
    const TYPE: PacketType = PacketType::Prepare;

    fn contents_len(&self) -> usize {
        PREPARE_FIXED_LEN
            + oer::var_octets_size(self.destination.as_str().len())
            + oer::var_octets_size(self.data.len())
    }

    fn write_contents(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.amount.to_be_bytes());
        out.extend_from_slice(&self.expires_at.to_ilp_bytes());
        out.extend_from_slice(self.execution_condition.as_bytes());
        oer::write_var_octets(out, self.destination.as_str().as_bytes());
        oer::write_var_octets(out, &self.data);
    }

    fn read_contents(r: &mut Reader<'_>) -> Result<Self, PacketError> {
        let amount = r.read_u64(Field::Amount)?;
        let expires_at = Timestamp::from_ilp_bytes(r.read_array(Field::ExpiresAt)?)?;
        let execution_condition = Condition::from_bytes(*r.read_array(Field::ExecutionCondition)?);
        let destination = read_address(r, Field::Destination)?.ok_or(PacketError::BadAddress {
            field: Field::Destination,
            source: AddressError::Empty,
        })?;
        let data = r.read_var_octets(Field::Data, MAX_DATA_LEN)?.to_vec();
        Ok(Prepare {
            amount,
            expires_at,
            execution_condition,
            destination,
            data,
        })
    }

    fn from_packet(packet: Packet) -> Result<Self, Packet> {
        match packet {
            Packet::Prepare(p) => Ok(p),
            other => Err(other),
        }
    }
}

impl Fulfill {
    /// Builds a Fulfill, checking the data limit.
    pub fn new(fulfillment: Fulfillment, data: Vec<u8>) -> Result<Self, PacketError> {
        check_len(Field::Data, data.len(), MAX_DATA_LEN)?;
        Ok(Fulfill { fulfillment, data })
    }
    /// The preimage.
    pub fn fulfillment(&self) -> &Fulfillment {
        &self.fulfillment
    }
    /// End-to-end data from the receiver.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Decodes a Fulfill; any other type is [`PacketError::UnexpectedType`].
    pub fn decode(bytes: &[u8]) -> Result<Self, PacketError> {
        decode_as(bytes)
    }

    /// The canonical wire form.
    pub fn encode(&self) -> Vec<u8> {
        encode_as(self)
    }
}

impl Contents for Fulfill {
    const TYPE: PacketType = PacketType::Fulfill;

    fn contents_len(&self) -> usize {
        32 + oer::var_octets_size(self.data.len())
    }

    fn write_contents(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.fulfillment.as_bytes());
        oer::write_var_octets(out, &self.data);
    }

    fn read_contents(r: &mut Reader<'_>) -> Result<Self, PacketError> {
        let fulfillment = Fulfillment::from_bytes(*r.read_array(Field::Fulfillment)?);
        let data = r.read_var_octets(Field::Data, MAX_DATA_LEN)?.to_vec();
        Ok(Fulfill { fulfillment, data })
    }

    fn from_packet(packet: Packet) -> Result<Self, Packet> {
        match packet {
            Packet::Fulfill(p) => Ok(p),
            other => Err(other),
        }
    }
}

impl Reject {
    /// Builds a Reject, checking the message and data limits. `triggered_by` is `None` when the
    /// party refusing has no address to give (encoded as an empty string).
    pub fn new(
        code: ErrorCode,
        triggered_by: Option<Address>,
        message: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<Self, PacketError> {
        let message = message.into();
        check_len(Field::Message, message.len(), MAX_MESSAGE_LEN)?;
        check_len(Field::Data, data.len(), MAX_DATA_LEN)?;
        Ok(Reject {
            code,
            triggered_by,
            message,
            data,
        })
    }

    /// An F08 Amount Too Large reject carrying the received and maximum amounts in its data.
    pub fn amount_too_large(
        triggered_by: Option<Address>,
        message: impl Into<String>,
        details: AmountTooLarge,
    ) -> Result<Self, PacketError> {
        Reject::new(
            ErrorCode::F08_AMOUNT_TOO_LARGE,
            triggered_by,
            message,
            details.encode().to_vec(),
        )
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
    /// Who refused.
    pub fn triggered_by(&self) -> Option<&Address> {
        self.triggered_by.as_ref()
    }
    /// Human-readable explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// End-to-end or error-specific data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// For an F08 reject, the received and maximum amounts from its data.
    pub fn amount_too_large_details(&self) -> Option<AmountTooLarge> {
        (self.code == ErrorCode::F08_AMOUNT_TOO_LARGE)
            .then(|| AmountTooLarge::decode(&self.data).ok())
            .flatten()
    }

    fn triggered_by_bytes(&self) -> &[u8] {
        self.triggered_by.as_ref().map_or(&[], |a| a.as_str().as_bytes())
    }

    /// Decodes a Reject; any other type is [`PacketError::UnexpectedType`].
    pub fn decode(bytes: &[u8]) -> Result<Self, PacketError> {
        decode_as(bytes)
    }

    /// The canonical wire form.
    pub fn encode(&self) -> Vec<u8> {
        encode_as(self)
    }
}

impl Contents for Reject {
    const TYPE: PacketType = PacketType::Reject;

    fn contents_len(&self) -> usize {
        3 + oer::var_octets_size(self.triggered_by_bytes().len())
            + oer::var_octets_size(self.message.len())
            + oer::var_octets_size(self.data.len())
    }

    fn write_contents(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.code.as_bytes());
        oer::write_var_octets(out, self.triggered_by_bytes());
        oer::write_var_octets(out, self.message.as_bytes());
        oer::write_var_octets(out, &self.data);
    }

    fn read_contents(r: &mut Reader<'_>) -> Result<Self, PacketError> {
        let code = ErrorCode::from_bytes(*r.read_array(Field::Code)?)?;
        let triggered_by = read_address(r, Field::TriggeredBy)?;
        let message = r.read_var_octets(Field::Message, MAX_MESSAGE_LEN)?;
        let message = std::str::from_utf8(message)
            .map_err(|_| PacketError::InvalidUtf8 {
                field: Field::Message,
            })?
            .to_owned();
        let data = r.read_var_octets(Field::Data, MAX_DATA_LEN)?.to_vec();
        Ok(Reject {
            code,
            triggered_by,
            message,
            data,
        })
    }

    fn from_packet(packet: Packet) -> Result<Self, Packet> {
        match packet {
            Packet::Reject(p) => Ok(p),
            other => Err(other),
        }
    }
}

/// An address field; empty decodes to `None` (allowed for triggeredBy, refused by the caller
/// for a destination).
fn read_address(r: &mut Reader<'_>, field: Field) -> Result<Option<Address>, PacketError> {
    let bytes = r.read_var_octets(field, MAX_ADDRESS_LEN)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    Address::from_bytes(bytes)
        .map(Some)
        .map_err(|source| PacketError::BadAddress { field, source })
}

/// One packet type's contents: what goes inside the envelope after its type byte.
trait Contents: Sized {
    /// The envelope's type byte for these contents.
    const TYPE: PacketType;
    /// Exact encoded length, so the envelope's buffer is allocated once.
    fn contents_len(&self) -> usize;
    fn write_contents(&self, out: &mut Vec<u8>);
    fn read_contents(r: &mut Reader<'_>) -> Result<Self, PacketError>;
    /// The packet if it is of this type, else the packet back.
    fn from_packet(packet: Packet) -> Result<Self, Packet>;
}

/// Decodes a packet that must be of type `T`.
fn decode_as<T: Contents>(bytes: &[u8]) -> Result<T, PacketError> {
    T::from_packet(Packet::decode(bytes)?).map_err(|other| unexpected(T::TYPE, other.packet_type()))
}

/// The canonical wire form of a packet of type `T`.
fn encode_as<T: Contents>(packet: &T) -> Vec<u8> {
    encode_envelope(T::TYPE, packet.contents_len(), |out| packet.write_contents(out))
}

fn unexpected(expected: PacketType, found: PacketType) -> PacketError {
    PacketError::UnexpectedType {
        expected,
        found: found as u8,
    }
}

fn encode_envelope(kind: PacketType, contents_len: usize, write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let total = 1 + oer::length_prefix_size(contents_len) + contents_len;
    let mut out = Vec::with_capacity(total);
    out.push(kind as u8);
    oer::write_length(&mut out, contents_len);
    write(&mut out);
    debug_assert_eq!(out.len(), total, "contents_len must be exact");
    out
}

/// Reads the envelope header: the type and the contents.
fn read_envelope(bytes: &[u8]) -> Result<(PacketType, &[u8]), PacketError> {
    let mut r = Reader::new(bytes);
    let type_byte = r.read_u8(Field::Type)?;
    let kind = PacketType::from_byte(type_byte).ok_or(PacketError::UnknownType { found: type_byte })?;
    let contents = r.read_var_octets(Field::Envelope, MAX_CONTENTS_LEN)?;
    Ok((kind, contents))
}

impl Packet {
    /// Decodes any packet.
    pub fn decode(bytes: &[u8]) -> Result<Self, PacketError> {
        let (kind, contents) = read_envelope(bytes)?;
        let mut r = Reader::new(contents);
        Ok(match kind {
            PacketType::Prepare => Packet::Prepare(Prepare::read_contents(&mut r)?),
            PacketType::Fulfill => Packet::Fulfill(Fulfill::read_contents(&mut r)?),
            PacketType::Reject => Packet::Reject(Reject::read_contents(&mut r)?),
        })
    }

    /// The canonical wire form.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Packet::Prepare(p) => p.encode(),
            Packet::Fulfill(p) => p.encode(),
            Packet::Reject(p) => p.encode(),
        }
    }

    /// Which of the three it is.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Prepare(_) => PacketType::Prepare,
            Packet::Fulfill(_) => PacketType::Fulfill,
            Packet::Reject(_) => PacketType::Reject,
        }
    }
}

impl From<Prepare> for Packet {
    fn from(p: Prepare) -> Self {
        Packet::Prepare(p)
    }
}
impl From<Fulfill> for Packet {
    fn from(p: Fulfill) -> Self {
        Packet::Fulfill(p)
    }
}
impl From<Reject> for Packet {
    fn from(p: Reject) -> Self {
        Packet::Reject(p)
    }
}

/// The data of an F08 Amount Too Large reject: two big-endian UInt64s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountTooLarge {
    /// The amount the rejecting connector received.
    pub received: u64,
    /// The most it would have forwarded.
    pub maximum: u64,
}

impl AmountTooLarge {
    /// The 16-byte wire form.
    pub fn encode(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.received.to_be_bytes());
        out[8..].copy_from_slice(&self.maximum.to_be_bytes());
        out
    }

    /// Reads the two amounts; extra bytes are ignored like any trailing extension.
    pub fn decode(data: &[u8]) -> Result<Self, PacketError> {
        let mut r = Reader::new(data);
        Ok(AmountTooLarge {
            received: r.read_u64(Field::Data)?,
            maximum: r.read_u64(Field::Data)?,
        })
    }
}

/// An encoded Prepare whose amount and expiry can be read and rewritten in place, leaving the
/// rest of the bytes untouched (what a forwarding connector changes, without re-encoding).
#[derive(Debug)]
pub struct PrepareBytesMut<'a> {
    bytes: &'a mut [u8],
    amount_at: usize,
}

impl<'a> PrepareBytesMut<'a> {
    /// Checks that `bytes` hold a Prepare envelope long enough for its fixed fields.
    /// (It does not validate the variable fields; use [`Prepare::decode`] for that.)
    pub fn new(bytes: &'a mut [u8]) -> Result<Self, PacketError> {
        let (kind, contents) = read_envelope(bytes)?;
        if kind != PacketType::Prepare {
            return Err(unexpected(PacketType::Prepare, kind));
        }
        if contents.len() < PREPARE_FIXED_LEN {
            return Err(PacketError::Truncated {
                field: Field::ExecutionCondition,
                needed: PREPARE_FIXED_LEN,
                available: contents.len(),
            });
        }
        let amount_at = 1 + oer::length_prefix_size(contents.len());
        Ok(PrepareBytesMut { bytes, amount_at })
    }

    /// The amount field.
    pub fn amount(&self) -> u64 {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&self.bytes[self.amount_at..self.amount_at + 8]);
        u64::from_be_bytes(raw)
    }

    /// Overwrites the amount field.
    pub fn set_amount(&mut self, amount: u64) {
        self.bytes[self.amount_at..self.amount_at + 8].copy_from_slice(&amount.to_be_bytes());
    }

    /// The expiry field, validated.
    pub fn expires_at(&self) -> Result<Timestamp, PacketError> {
        let at = self.amount_at + 8;
        let mut raw = [0u8; ILP_TIMESTAMP_LEN];
        raw.copy_from_slice(&self.bytes[at..at + ILP_TIMESTAMP_LEN]);
        Ok(Timestamp::from_ilp_bytes(&raw)?)
    }

    /// Overwrites the expiry field.
    pub fn set_expires_at(&mut self, expires_at: Timestamp) {
        let at = self.amount_at + 8;
        self.bytes[at..at + ILP_TIMESTAMP_LEN].copy_from_slice(&expires_at.to_ilp_bytes());
    }
}

#[cfg(any(test, feature = "proptest"))]
pub mod arb;
#[cfg(test)]
mod tests;
