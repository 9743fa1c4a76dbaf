//! ILDCP (RFC 31): how a child learns its ILP address, asset code and scale from its parent.
//! The request is a Prepare to `peer.config` with amount 0, empty data and the condition
//! SHA-256(32 zero bytes); the response is a Fulfill with 32 zero bytes and the data
//! `address: var octets | asset scale: u8 | asset code: var octets (UTF-8)`.

use htlc::{Address, Condition, Fulfill, Fulfillment, Prepare, Timestamp};

use crate::error::StreamError;
use crate::oer::{self, Reader};

/// The ILDCP destination.
pub const PEER_CONFIG: &str = "peer.config";
/// The ILDCP fulfillment: 32 zero bytes.
pub const FULFILLMENT: Fulfillment = Fulfillment::from_bytes([0; 32]);

/// The ILDCP condition, SHA-256 of [`FULFILLMENT`] (`Zmh6rfhivXdsj8GLjp+OIAiXFIVu4jOzkCpZHQ1fKSU=`).
pub fn condition() -> Condition {
    FULFILLMENT.condition()
}

/// What a parent tells its child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IldcpResponse {
    /// The child's ILP address.
    pub client_address: Address,
    /// Asset scale of amounts on the link.
    pub asset_scale: u8,
    /// Settlement asset code (UTF-8).
    pub asset_code: String,
}

/// The request Prepare, expiring at `expires_at` (the caller's clock decides).
pub fn request(expires_at: Timestamp) -> Prepare {
    let destination = Address::new(PEER_CONFIG).unwrap_or_else(|e| unreachable!("peer.config is valid: {e}"));
    Prepare::new(destination, 0, expires_at, condition(), Vec::new())
        .unwrap_or_else(|e| unreachable!("empty data is within limits: {e}"))
}

/// Whether a Prepare is an ILDCP request, and why not. The amount is not checked: RFC 31 lets
/// future children pay for an address.
pub fn check_request(prepare: &Prepare) -> Result<(), StreamError> {
    if prepare.destination().as_str() != PEER_CONFIG {
        return Err(StreamError::NotIldcpRequest {
            reason: "destination is not peer.config",
        });
    }
    if *prepare.execution_condition() != condition() {
        return Err(StreamError::NotIldcpRequest {
            reason: "condition is not SHA-256 of 32 zero bytes",
        });
    }
    Ok(())
}

impl IldcpResponse {
    /// The response data.
    pub fn encode(&self) -> Vec<u8> {
        let address = self.client_address.as_str().as_bytes();
        let mut out = Vec::with_capacity(
            oer::var_octets_size(address.len()) + 1 + oer::var_octets_size(self.asset_code.len()),
        );
        oer::write_var_octets(&mut out, address);
        out.push(self.asset_scale);
        oer::write_var_octets(&mut out, self.asset_code.as_bytes());
        out
    }

    /// Decodes response data; nothing may follow the asset code.
    pub fn decode(data: &[u8]) -> Result<Self, StreamError> {
        let mut r = Reader::new(data);
        let address = r.read_var_octets("client address")?;
        let client_address = Address::from_bytes(address).map_err(|source| StreamError::BadAddress {
            field: "client address",
            source,
        })?;
        let asset_scale = r.read_u8("asset scale")?;
        let asset_code = r.read_utf8("asset code")?;
        if r.remaining() > 0 {
            return Err(StreamError::TrailingBytes {
                what: "ILDCP response",
                extra: r.remaining(),
            });
        }
        Ok(IldcpResponse {
            client_address,
            asset_scale,
            asset_code,
        })
    }

    /// The Fulfill that carries this response.
    pub fn to_fulfill(&self) -> Result<Fulfill, StreamError> {
        let data = self.encode();
        let len = data.len();
        Fulfill::new(FULFILLMENT, data).map_err(|_| StreamError::TooLarge {
            len,
            max: htlc::packet::MAX_DATA_LEN,
        })
    }

    /// Reads the response from a parent's Fulfill.
    pub fn from_fulfill(fulfill: &Fulfill) -> Result<Self, StreamError> {
        if *fulfill.fulfillment() != FULFILLMENT {
            return Err(StreamError::NotIldcpResponse);
        }
        IldcpResponse::decode(fulfill.data())
    }
}
