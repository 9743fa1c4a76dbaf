//! The few Octet Encoding Rules (ITU-T X.696, as profiled by RFC 30) that ILP packets use:
//! fixed-size fields and variable-length octet strings with a canonical length prefix.
//!
//! A length below 128 is one byte. A longer one is `0x80 | n` followed by `n` big-endian bytes;
//! canonical means the shortest form: no long form for lengths below 128, no leading zero bytes.

use crate::packet::{Field, PacketError};

/// The longest length prefix we read: 2 bytes of length cover every ILP field (max 32767).
const MAX_LENGTH_OF_LENGTH: usize = 2;

/// A cursor over a byte slice that never reads past its end.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn read_bytes(&mut self, field: Field, len: usize) -> Result<&'a [u8], PacketError> {
        if self.remaining() < len {
            return Err(PacketError::Truncated {
                field,
                needed: len,
                available: self.remaining(),
            });
        }
        let bytes = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    pub(crate) fn read_array<const N: usize>(&mut self, field: Field) -> Result<&'a [u8; N], PacketError> {
        let bytes = self.read_bytes(field, N)?;
        // read_bytes returned exactly N bytes.
        Ok(bytes.try_into().unwrap_or_else(|_| unreachable!()))
    }

    pub(crate) fn read_u8(&mut self, field: Field) -> Result<u8, PacketError> {
        Ok(self.read_array::<1>(field)?[0])
    }

    pub(crate) fn read_u64(&mut self, field: Field) -> Result<u64, PacketError> {
        Ok(u64::from_be_bytes(*self.read_array::<8>(field)?))
    }

    /// Reads a canonical length prefix and checks it against `max`.
    pub(crate) fn read_length(&mut self, field: Field, max: usize) -> Result<usize, PacketError> {
        let first = self.read_u8(field)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > MAX_LENGTH_OF_LENGTH {
                return Err(PacketError::BadLengthPrefix { field, byte: first });
            }
            let bytes = self.read_bytes(field, count)?;
            if bytes[0] == 0 {
                return Err(PacketError::NonCanonicalLength { field });
            }
            let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err(PacketError::NonCanonicalLength { field });
            }
            len
        };
        if len > max {
            return Err(PacketError::TooLong { field, len, max });
        }
        Ok(len)
    }

    /// Reads a length-prefixed octet string of at most `max` bytes.
    pub(crate) fn read_var_octets(&mut self, field: Field, max: usize) -> Result<&'a [u8], PacketError> {
        let len = self.read_length(field, max)?;
        self.read_bytes(field, len)
    }
}

/// Bytes needed for the length prefix of `len`.
pub(crate) fn length_prefix_size(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS as usize / 8 - len.leading_zeros() as usize / 8)
    }
}

/// Appends the canonical length prefix of `len`.
pub(crate) fn write_length(out: &mut Vec<u8>, len: usize) {
    if let Ok(short @ 0..0x80) = u8::try_from(len) {
        out.push(short);
    } else {
        let count = length_prefix_size(len) - 1;
        out.push(0x80 | u8::try_from(count).expect("a usize has at most 16 bytes"));
        out.extend_from_slice(&len.to_be_bytes()[std::mem::size_of::<usize>() - count..]);
    }
}

/// Appends a length-prefixed octet string.
pub(crate) fn write_var_octets(out: &mut Vec<u8>, bytes: &[u8]) {
    write_length(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Size of `bytes` once length-prefixed.
pub(crate) fn var_octets_size(len: usize) -> usize {
    length_prefix_size(len) + len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<usize, PacketError> {
        Reader::new(bytes).read_length(Field::Data, usize::MAX)
    }

    #[test]
    fn length_forms() {
        assert_eq!(read(&[0x00]), Ok(0));
        assert_eq!(read(&[0x7f]), Ok(127));
        assert_eq!(read(&[0x81, 0x80]), Ok(128));
        assert_eq!(read(&[0x82, 0x01, 0x4b]), Ok(331));
        assert_eq!(
            read(&[0x81, 0x7f]),
            Err(PacketError::NonCanonicalLength { field: Field::Data })
        );
        assert_eq!(
            read(&[0x82, 0x00, 0xff]),
            Err(PacketError::NonCanonicalLength { field: Field::Data })
        );
        assert_eq!(
            read(&[0x80]),
            Err(PacketError::BadLengthPrefix {
                field: Field::Data,
                byte: 0x80
            })
        );
        assert_eq!(
            read(&[0x83, 1, 0, 0]),
            Err(PacketError::BadLengthPrefix {
                field: Field::Data,
                byte: 0x83
            })
        );
        assert!(matches!(read(&[0x82, 0x01]), Err(PacketError::Truncated { .. })));
    }

    #[test]
    fn writer_is_canonical_and_matches_the_reader() {
        for len in [0usize, 1, 127, 128, 255, 256, 331, 32767, 65535] {
            let mut out = Vec::new();
            write_length(&mut out, len);
            assert_eq!(out.len(), length_prefix_size(len));
            assert_eq!(read(&out), Ok(len), "{len}");
        }
    }
}
