//! Character classes of the DID syntax (W3C DID Core §3.1, §3.2, which borrow RFC 3986's
//! `pchar`, query and fragment rules) and percent-decoding, shared by [`crate::Did`] and
//! [`crate::DidUrl`].

/// `method-char = %x61-7A / DIGIT`.
pub(crate) fn is_method_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `idchar` without `pct-encoded`: `ALPHA / DIGIT / "." / "-" / "_"`.
pub(crate) fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

/// RFC 3986 `pchar` without `pct-encoded`: unreserved, sub-delims, `:` and `@`.
pub(crate) fn is_pchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
        )
}

/// RFC 3986 query and fragment characters without `pct-encoded`: `pchar / "/" / "?"`.
pub(crate) fn is_query_char(b: u8) -> bool {
    is_pchar(b) || b == b'/' || b == b'?'
}

/// Checks `text` (which starts at byte `offset` of the whole input) against a character class
/// that also admits `%XX`; on failure returns the offending offset and whether it was a bad
/// percent-encoding.
pub(crate) fn check_chars(text: &[u8], offset: usize, allowed: fn(u8) -> bool) -> Result<(), (usize, bool)> {
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'%' {
            let hex = |j: usize| text.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Err((offset + i, true));
            }
            i += 3;
        } else if allowed(b) {
            i += 1;
        } else {
            return Err((offset + i, false));
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes (already checked by [`check_chars`]) and requires UTF-8.
pub(crate) fn pct_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encodings_are_checked_and_decoded() {
        assert_eq!(check_chars(b"a%20b", 0, is_id_char), Ok(()));
        assert_eq!(check_chars(b"a%2", 10, is_id_char), Err((11, true)));
        assert_eq!(check_chars(b"a%zz", 0, is_id_char), Err((1, true)));
        assert_eq!(check_chars(b"a/b", 0, is_id_char), Err((1, false)));
        assert_eq!(pct_decode("a%20b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(pct_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(pct_decode("%FF"), None);
    }
}
