//! The IETF Token Status List: a bit string with 1, 2, 4 or 8 bits per credential (entry `i`
//! in byte `i * bits / 8`, starting at the least significant bit), compressed with DEFLATE in
//! a zlib wrapper and carried as base64url in `status_list.lst`, inside a signed status list
//! token ([`token`]). Values: 0 valid, 1 invalid (revoked), 2 suspended, others application
//! specific. A credential points at its entry with `status.status_list` ([`crate::StatusRef`]).

pub mod token;

use miniz_oxide::deflate::compress_to_vec_zlib;
use miniz_oxide::inflate::decompress_to_vec_zlib_with_limit;

use crate::encoding::{b64_decode, b64_encode};
use crate::error::IdentityError;

/// Largest decompressed status list accepted (bytes): 2^25 entries at 1 bit. Bounds what a
/// small compressed input can make a verifier allocate.
pub const MAX_STATUS_LIST_BYTES: usize = 4 * 1024 * 1024;

/// zlib level used when compressing (the best; lists are built rarely, fetched often).
const COMPRESSION_LEVEL: u8 = 9;

/// A credential's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0x00: valid.
    Valid,
    /// 0x01: invalid (revoked, for good).
    Invalid,
    /// 0x02: suspended (may become valid again).
    Suspended,
    /// Any other value (0x03 and 0x0B-0x0F are application specific).
    Other(u8),
}

impl Status {
    /// The numeric value.
    pub fn value(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Other(value) => value,
        }
    }

    /// The status of a numeric value.
    pub fn from_value(value: u8) -> Status {
        match value {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            other => Status::Other(other),
        }
    }

    /// `Ok` for a valid status, the specific refusal otherwise (`idx` for the message).
    pub fn require_valid(self, idx: usize) -> Result<(), IdentityError> {
        match self {
            Status::Valid => Ok(()),
            Status::Invalid => Err(IdentityError::Revoked { idx }),
            Status::Suspended => Err(IdentityError::Suspended { idx }),
            Status::Other(status) => Err(IdentityError::OtherStatus { idx, status }),
        }
    }
}

/// A status list: `bits` per entry over `bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

fn check_bits(bits: u64) -> Result<u8, IdentityError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(u8::try_from(bits).expect("small")),
        _ => Err(IdentityError::InvalidStatusBits { bits }),
    }
}

impl StatusList {
    /// A list of at least `entries` entries, all valid (rounded up to whole bytes).
    pub fn new(bits: u8, entries: usize) -> Result<StatusList, IdentityError> {
        let bits = check_bits(u64::from(bits))?;
        let len = entries.div_ceil(8 / usize::from(bits));
        if len > MAX_STATUS_LIST_BYTES {
            return Err(IdentityError::TooLarge {
                what: "status list",
                len,
                max: MAX_STATUS_LIST_BYTES,
            });
        }
        Ok(StatusList {
            bits,
            bytes: vec![0; len],
        })
    }

    /// A list over already packed bytes.
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<StatusList, IdentityError> {
        let bits = check_bits(u64::from(bits))?;
        if bytes.len() > MAX_STATUS_LIST_BYTES {
            return Err(IdentityError::TooLarge {
                what: "status list",
                len: bytes.len(),
                max: MAX_STATUS_LIST_BYTES,
            });
        }
        Ok(StatusList { bits, bytes })
    }

    /// Bits per entry.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * (8 / usize::from(self.bits))
    }

    /// Whether the list has no entry.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// (byte index, shift, mask) of entry `idx`.
    fn locate(&self, idx: usize) -> Result<(usize, u32, u8), IdentityError> {
        if idx >= self.len() {
            return Err(IdentityError::StatusIndexOutOfRange { idx, len: self.len() });
        }
        let bits = usize::from(self.bits);
        let per_byte = 8 / bits;
        let shift = u32::try_from((idx % per_byte) * bits).expect("below 8");
        let mask = u8::try_from((1u16 << bits) - 1).expect("at most 8 bits");
        Ok((idx / per_byte, shift, mask))
    }

    /// The status of entry `idx`.
    pub fn get(&self, idx: usize) -> Result<Status, IdentityError> {
        let (byte, shift, mask) = self.locate(idx)?;
        Ok(Status::from_value((self.bytes[byte] >> shift) & mask))
    }

    /// Sets entry `idx`; the status must fit in the list's bits.
    pub fn set(&mut self, idx: usize, status: Status) -> Result<(), IdentityError> {
        let (byte, shift, mask) = self.locate(idx)?;
        let value = status.value();
        if value > mask {
            return Err(IdentityError::StatusTooWide {
                status: value,
                bits: self.bits,
            });
        }
        self.bytes[byte] = (self.bytes[byte] & !(mask << shift)) | (value << shift);
        Ok(())
    }

    /// The `lst` value: base64url of the zlib-compressed bytes.
    pub fn to_lst(&self) -> String {
        b64_encode(compress_to_vec_zlib(&self.bytes, COMPRESSION_LEVEL))
    }

    /// A list from `bits` and an `lst` value, refusing more than [`MAX_STATUS_LIST_BYTES`]
    /// once inflated.
    pub fn from_lst(bits: u64, lst: &str) -> Result<StatusList, IdentityError> {
        let bits = check_bits(bits)?;
        let compressed = b64_decode(lst).ok_or(IdentityError::Decompression {
            reason: "lst is not base64url",
        })?;
        let bytes = decompress_to_vec_zlib_with_limit(&compressed, MAX_STATUS_LIST_BYTES).map_err(|e| {
            IdentityError::Decompression {
                reason: match e.status {
                    miniz_oxide::inflate::TINFLStatus::HasMoreOutput => "larger than the limit",
                    miniz_oxide::inflate::TINFLStatus::FailedCannotMakeProgress => "truncated",
                    miniz_oxide::inflate::TINFLStatus::Adler32Mismatch => "checksum mismatch",
                    _ => "not zlib-compressed data",
                },
            }
        })?;
        Ok(StatusList { bits, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_pack_from_the_least_significant_bit() {
        let mut list = StatusList::new(2, 8).unwrap();
        assert_eq!(list.len(), 8);
        list.set(0, Status::Invalid).unwrap();
        list.set(1, Status::Suspended).unwrap();
        list.set(3, Status::Other(3)).unwrap();
        assert_eq!(list.as_bytes(), &[0b1100_1001, 0]);
        assert_eq!(list.get(1).unwrap(), Status::Suspended);
        list.set(1, Status::Valid).unwrap();
        assert_eq!(list.get(1).unwrap(), Status::Valid);
        assert_eq!(
            list.set(8, Status::Invalid),
            Err(IdentityError::StatusIndexOutOfRange { idx: 8, len: 8 })
        );
        assert_eq!(
            list.set(0, Status::Other(4)),
            Err(IdentityError::StatusTooWide { status: 4, bits: 2 })
        );
        assert_eq!(
            StatusList::new(3, 8),
            Err(IdentityError::InvalidStatusBits { bits: 3 })
        );
    }

    #[test]
    fn lst_round_trips_and_bombs_are_refused() {
        let mut list = StatusList::new(1, 1000).unwrap();
        list.set(999, Status::Invalid).unwrap();
        let back = StatusList::from_lst(1, &list.to_lst()).unwrap();
        assert_eq!(back, list);
        let bomb = b64_encode(compress_to_vec_zlib(&vec![0; MAX_STATUS_LIST_BYTES + 1], 9));
        assert_eq!(
            StatusList::from_lst(1, &bomb),
            Err(IdentityError::Decompression {
                reason: "larger than the limit"
            })
        );
        assert!(matches!(
            StatusList::from_lst(1, "AAAA"),
            Err(IdentityError::Decompression { .. })
        ));
        assert!(matches!(
            StatusList::from_lst(1, "A="),
            Err(IdentityError::Decompression { .. })
        ));
    }
}
