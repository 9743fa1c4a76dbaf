//! SPSP connection details (RFC 9 + RFC 29 §4.1) without per-connection storage: each
//! connection gets the receiver's address plus a random token segment, and its shared secret
//! is `HMAC-SHA256(server secret, token)`, so any later packet's destination gives the secret back.

use hmac::{Hmac, Mac};
use htlc::{Address, AddressError};
use rand::{CryptoRng, RngCore};
use sha2::Sha256;

/// Random bytes in a connection token (hex-encoded in the address).
pub const TOKEN_LEN: usize = 18;

/// Derives connection addresses and shared secrets from one server secret.
#[derive(Clone)]
pub struct ConnectionGenerator {
    server_secret: [u8; 32],
}

impl std::fmt::Debug for ConnectionGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionGenerator(..)")
    }
}

impl ConnectionGenerator {
    /// Uses `server_secret` (32 random bytes the receiver keeps).
    pub fn new(server_secret: [u8; 32]) -> Self {
        ConnectionGenerator { server_secret }
    }

    /// A new connection under `receiver`: its destination address and shared secret.
    pub fn generate(
        &self,
        rng: &mut (impl RngCore + CryptoRng),
        receiver: &Address,
    ) -> Result<(Address, [u8; 32]), AddressError> {
        let mut token = [0u8; TOKEN_LEN];
        rng.fill_bytes(&mut token);
        let token = hex_lower(&token);
        Ok((receiver.with_suffix(&token)?, self.secret_for_token(&token)))
    }

    /// The shared secret of the connection a packet to `destination` belongs to, if the
    /// destination is `receiver.<token>` (further segments are allowed and ignored).
    pub fn shared_secret(&self, destination: &Address, receiver: &Address) -> Option<[u8; 32]> {
        let rest = destination
            .as_str()
            .strip_prefix(receiver.as_str())?
            .strip_prefix('.')?;
        let token = rest.split('.').next()?;
        let well_formed = token.len() == 2 * TOKEN_LEN && token.bytes().all(|b| b.is_ascii_hexdigit());
        well_formed.then(|| self.secret_for_token(token))
    }

    fn secret_for_token(&self, token: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.server_secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn the_destination_gives_the_secret_back_and_nothing_else_does() {
        let generator = ConnectionGenerator::new([5; 32]);
        let receiver = Address::new("g.bank-b.alice").unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let (address, secret) = generator.generate(&mut rng, &receiver).unwrap();
        let (other, other_secret) = generator.generate(&mut rng, &receiver).unwrap();
        assert_ne!(address, other);
        assert_ne!(secret, other_secret);
        assert!(address.has_prefix("g.bank-b.alice"));
        assert_eq!(generator.shared_secret(&address, &receiver), Some(secret));
        let deeper = address.with_suffix("x").unwrap();
        assert_eq!(generator.shared_secret(&deeper, &receiver), Some(secret));
        // Another server secret, another receiver, or a token that is not ours: no secret.
        assert_ne!(
            ConnectionGenerator::new([6; 32]).shared_secret(&address, &receiver),
            Some(secret)
        );
        let bob = Address::new("g.bank-b.bob").unwrap();
        assert_eq!(generator.shared_secret(&address, &bob), None);
        assert_eq!(generator.shared_secret(&receiver, &receiver), None);
        let short = receiver.with_suffix("abcd").unwrap();
        assert_eq!(generator.shared_secret(&short, &receiver), None);
        let alice2 = Address::new("g.bank-b.alice2").unwrap();
        assert_eq!(generator.shared_secret(&alice2, &receiver), None);
    }
}
