//! Remembers nonces for as long as they could be replayed, and no longer.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Seen (key id, nonce) pairs, each kept until its request's timestamp leaves the window.
///
/// A request older than the window is refused by the time check anyway, so forgetting its
/// nonce then is safe; this bounds the store to the requests of one window (entries are 16-byte
/// digests, so a window of 4,000 requests/s for 60 s is under 10 MiB).
#[derive(Debug)]
pub struct NonceStore {
    window_secs: u64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashSet<[u8; 16]>,
    /// (forget at, digest) in insertion order; timestamps are close to monotonic, and an entry
    /// forgotten slightly late only costs memory.
    order: VecDeque<(i64, [u8; 16])>,
}

impl NonceStore {
    /// A store for a verification window of `window_secs`.
    pub fn new(window_secs: u64) -> Self {
        NonceStore {
            window_secs,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records the nonce; false if it was already recorded (a replay). Call only after the
    /// signature verified, so unauthenticated callers cannot fill the store.
    pub fn check_and_insert(&self, key_id: &str, nonce: &str, timestamp: i64, now: i64) -> bool {
        let mut hasher = Sha256::new();
        hasher.update(key_id.as_bytes());
        hasher.update([0]);
        hasher.update(nonce.as_bytes());
        let digest = hasher.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        let window = i64::try_from(self.window_secs).unwrap_or(i64::MAX);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(&(forget_at, old)) = inner.order.front() {
            if forget_at >= now {
                break;
            }
            inner.order.pop_front();
            inner.seen.remove(&old);
        }
        if !inner.seen.insert(id) {
            return false;
        }
        inner.order.push_back((timestamp.saturating_add(window), id));
        true
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).seen.len()
    }

    /// True if none are.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_while_it_could_pass_the_window_then_forgotten() {
        let store = NonceStore::new(30);
        assert!(store.check_and_insert("k", "n1", 100, 100));
        assert!(!store.check_and_insert("k", "n1", 100, 120));
        assert!(
            store.check_and_insert("other-key", "n1", 100, 120),
            "nonces are per key"
        );
        assert!(!store.check_and_insert("k", "n1", 100, 130));
        // At 131 a request stamped 100 fails the time check, so its nonce can go.
        assert!(store.check_and_insert("k", "n2", 131, 131));
        assert_eq!(store.len(), 1);
    }
}
