//! The canonical OER pieces STREAM uses: u8, VarUInt (a length-prefixed minimal big-endian
//! unsigned integer) and variable-length octet strings. Readers never read past the end and
//! refuse non-canonical forms, so every accepted encoding is the one `write_*` produces.

use crate::error::StreamError;

/// A cursor over a byte slice.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn read_bytes(&mut self, field: &'static str, len: usize) -> Result<&'a [u8], StreamError> {
        if len > self.buf.len() {
            return Err(StreamError::Truncated {
                field,
                needed: len,
                available: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(len);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn read_array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], StreamError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_bytes(field, N)?);
        Ok(out)
    }

    pub(crate) fn read_u8(&mut self, field: &'static str) -> Result<u8, StreamError> {
        Ok(self.read_array::<1>(field)?[0])
    }

    pub(crate) fn read_u64(&mut self, field: &'static str) -> Result<u64, StreamError> {
        Ok(u64::from_be_bytes(self.read_array(field)?))
    }

    /// A canonical length prefix (short form below 128, else `0x80 | n` and n bytes, no
    /// leading zero). A length that exceeds the input is caught by the read that follows.
    pub(crate) fn read_length(&mut self, field: &'static str) -> Result<usize, StreamError> {
        let first = self.read_u8(field)?;
        if first < 0x80 {
            return Ok(usize::from(first));
        }
        let count = usize::from(first & 0x7f);
        if count == 0 || count > std::mem::size_of::<u32>() {
            return Err(StreamError::BadLengthPrefix { field, byte: first });
        }
        let bytes = self.read_bytes(field, count)?;
        if bytes[0] == 0 {
            return Err(StreamError::NonCanonicalLength { field });
        }
        let len = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        if len < 0x80 {
            return Err(StreamError::NonCanonicalLength { field });
        }
        // More than the address space can hold is more than the input holds.
        usize::try_from(len).map_err(|_| StreamError::Truncated {
            field,
            needed: usize::MAX,
            available: self.buf.len(),
        })
    }

    pub(crate) fn read_var_octets(&mut self, field: &'static str) -> Result<&'a [u8], StreamError> {
        let len = self.read_length(field)?;
        self.read_bytes(field, len)
    }

    pub(crate) fn read_utf8(&mut self, field: &'static str) -> Result<String, StreamError> {
        let bytes = self.read_var_octets(field)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| StreamError::InvalidUtf8 { field })
    }

    /// A VarUInt that must fit in a u64.
    pub(crate) fn read_var_uint(&mut self, field: &'static str) -> Result<u64, StreamError> {
        let bytes = self.read_var_uint_bytes(field)?;
        if bytes.len() > 8 {
            return Err(StreamError::VarUIntTooLarge {
                field,
                len: bytes.len(),
            });
        }
        Ok(be_to_u64(bytes))
    }

    /// A VarUInt read as `u64::MAX` when larger (RFC 29 §5.1.4, for receiveMax and sendMax).
    pub(crate) fn read_var_uint_saturating(&mut self, field: &'static str) -> Result<u64, StreamError> {
        let bytes = self.read_var_uint_bytes(field)?;
        Ok(if bytes.len() > 8 {
            u64::MAX
        } else {
            be_to_u64(bytes)
        })
    }

    fn read_var_uint_bytes(&mut self, field: &'static str) -> Result<&'a [u8], StreamError> {
        let bytes = self.read_var_octets(field)?;
        match bytes {
            [] | [0, _, ..] => Err(StreamError::NonCanonicalVarUInt { field }),
            _ => Ok(bytes),
        }
    }
}

fn be_to_u64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Bytes of the length prefix for `len`.
pub(crate) fn length_prefix_size(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + MinimalBe::new(usize_to_u64(len)).as_slice().len()
    }
}

/// The minimal big-endian bytes of a u64 (at least one byte), without allocating.
struct MinimalBe {
    bytes: [u8; 8],
    start: usize,
}

impl MinimalBe {
    fn new(v: u64) -> Self {
        let bytes = v.to_be_bytes();
        let start = bytes.iter().take(7).take_while(|&&b| b == 0).count();
        MinimalBe { bytes, start }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

pub(crate) fn write_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len_byte(len));
    } else {
        let be = MinimalBe::new(usize_to_u64(len));
        out.push(0x80 | len_byte(be.as_slice().len()));
        out.extend_from_slice(be.as_slice());
    }
}

pub(crate) fn write_var_octets(out: &mut Vec<u8>, bytes: &[u8]) {
    write_length(out, bytes.len());
    out.extend_from_slice(bytes);
}

pub(crate) fn write_var_uint(out: &mut Vec<u8>, v: u64) {
    write_var_octets(out, MinimalBe::new(v).as_slice());
}

/// Encoded size of a VarUInt.
pub(crate) fn var_uint_size(v: u64) -> usize {
    1 + MinimalBe::new(v).as_slice().len()
}

/// Encoded size of a variable-length octet string of `len` bytes.
pub(crate) fn var_octets_size(len: usize) -> usize {
    length_prefix_size(len) + len
}

fn len_byte(len: usize) -> u8 {
    // Callers pass values below 0x80 (a short length, or a count of at most 8 bytes).
    u8::try_from(len).unwrap_or(u8::MAX)
}

pub(crate) fn usize_to_u64(len: usize) -> u64 {
    // usize is at most 64 bits on every target Rust supports.
    u64::try_from(len).unwrap_or(u64::MAX)
}
