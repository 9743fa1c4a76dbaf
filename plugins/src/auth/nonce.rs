//! Remembers nonces for as long as they could be replayed, and no longer.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::AuthError;

/// Seen (key id, nonce) pairs, each kept until its request's timestamp leaves the window.
///
/// A request older than the window is refused by the time check anyway, so forgetting its
/// nonce then is safe; this bounds the store to the requests of one window (entries are 16-byte
/// digests, so a window of 4,000 requests/s for 60 s is under 10 MiB).
///
/// The store lives in memory, so a restarted server has forgotten the nonces of its previous
/// run: it refuses every request stamped before the second it started in
/// ([`NonceStore::started_at`]), which closes the replay window a restart would open (a client
/// refused that way signs again with a fresh timestamp). Timestamps are whole seconds, so a
/// request stamped in the very second of a restart that also reached the previous run is the
/// one case left open; refusing that second too would refuse every client's first second.
#[derive(Debug)]
pub struct NonceStore {
    window_secs: u64,
    started: i64,
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
    /// A store for a verification window of `window_secs`, remembering nothing of requests
    /// stamped before `started` (Unix seconds: when the server started).
    pub fn started_at(window_secs: u64, started: i64) -> Self {
        NonceStore {
            window_secs,
            started,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records the nonce. Refuses it if it was already recorded (a replay), or if the request
    /// is stamped before the store started (it may have been seen before a restart).
    /// Call only after the signature verified, so unauthenticated callers cannot fill the store.
    pub fn check_and_insert(
        &self,
        key_id: &str,
        nonce: &str,
        timestamp: i64,
        now: i64,
    ) -> Result<(), AuthError> {
        if timestamp < self.started {
            return Err(AuthError::PredatesRestart {
                timestamp,
                started: self.started,
            });
        }
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
            return Err(AuthError::ReplayedNonce);
        }
        inner.order.push_back((timestamp.saturating_add(window), id));
        Ok(())
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
        let store = NonceStore::started_at(30, 99);
        assert!(store.check_and_insert("k", "n1", 100, 100).is_ok());
        assert!(matches!(
            store.check_and_insert("k", "n1", 100, 120),
            Err(AuthError::ReplayedNonce)
        ));
        assert!(
            store.check_and_insert("other-key", "n1", 100, 120).is_ok(),
            "nonces are per key"
        );
        assert!(store.check_and_insert("k", "n1", 100, 130).is_err());
        // At 131 a request stamped 100 fails the time check, so its nonce can go.
        assert!(store.check_and_insert("k", "n2", 131, 131).is_ok());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn after_a_restart_requests_stamped_before_it_are_refused() {
        // The first run accepted a request stamped 100, then stopped.
        let first = NonceStore::started_at(30, 90);
        assert!(first.check_and_insert("k", "n1", 100, 100).is_ok());
        // Restarted at 105: the same request, still inside the window, is refused although
        // the new store never saw its nonce; so is any other stamped before 105.
        let restarted = NonceStore::started_at(30, 105);
        for (nonce, stamp) in [("n1", 100), ("n9", 104)] {
            assert!(matches!(
                restarted.check_and_insert("k", nonce, stamp, 110),
                Err(AuthError::PredatesRestart { started: 105, .. })
            ));
        }
        assert!(restarted.check_and_insert("k", "n1", 105, 110).is_ok());
        assert_eq!(restarted.len(), 1);
    }
}
