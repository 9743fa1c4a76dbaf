//! Reading a request body under a size limit without buffering more than the limit: a declared
//! `Content-Length` over it is refused before anything is read, and the chunks are counted as
//! they arrive (a sender may lie about the length or send none).

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError<E> {
    /// It is (or declares to be) longer than `limit` bytes.
    #[error("body over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The transport failed while reading it.
    #[error("reading the body: {0}")]
    Read(E),
}

/// The whole body of `chunks`, at most `limit` bytes; `content_length` is the request's
/// `Content-Length` header as sent, if any.
pub async fn read_limited<S, E>(
    content_length: Option<&str>,
    mut chunks: S,
    limit: usize,
) -> Result<Bytes, BodyError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    if content_length
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > limit)
    {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(BodyError::Read)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, ()>> + Unpin {
        stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn reads_up_to_the_limit_and_refuses_past_it() {
        let ok = read_limited(None, chunks(&[b"ab", b"cd"]), 4).await;
        assert_eq!(ok, Ok(Bytes::from_static(b"abcd")));
        let long = read_limited(None, chunks(&[b"ab", b"cde"]), 4).await;
        assert_eq!(long, Err(BodyError::TooLarge { limit: 4 }));
        let declared = read_limited(Some("5"), chunks(&[]), 4).await;
        assert_eq!(declared, Err(BodyError::TooLarge { limit: 4 }));
        let failed = read_limited(None, stream::iter(vec![Err::<Bytes, ()>(())]), 4).await;
        assert_eq!(failed, Err(BodyError::Read(())));
    }
}
