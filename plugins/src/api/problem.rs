//! Errors on the wire: RFC 7807 `application/problem+json` carrying [`PluginError::code`] and
//! the error's fields. This file is the one place where errors become HTTP statuses and back,
//! for the server and the client alike.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use htlc::{EscrowStatus, Timestamp};

use crate::error::PluginError;
use crate::plugin::{AccountId, TransferId};

/// A problem document. `code` is the stable machine-readable part; the optional fields repeat
/// the error's values so a client can act without parsing `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `urn:cypherlink:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the code.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened, in words.
    pub detail: String,
    /// Stable code: `insufficient_funds`, `unknown_account`, `unknown_transfer`,
    /// `limit_exceeded`, `wrong_condition`, `expired`, `expiry_too_far`, `already_final`,
    /// `supply_cap_exceeded`, `amount_overflow`, `duplicate`, `unauthorized`, `forbidden`,
    /// `malformed`, `webhook_url_forbidden`, `too_large`, `unsupported`, `unavailable`.
    pub code: String,
    /// The account concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// The transfer concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferId>,
    /// insufficient_funds: minor units needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed: Option<u64>,
    /// insufficient_funds: minor units available, overdraft included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub available: Option<i128>,
    /// limit_exceeded: which limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// expired: the expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// expiry_too_far: the latest expiry accepted at the time of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<Timestamp>,
    /// expiry_too_far: the ledger's longest hold, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hold_ms: Option<u64>,
    /// supply_cap_exceeded: the cap, minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<u64>,
    /// supply_cap_exceeded: the supply before the refused issuance, minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supply: Option<i64>,
    /// already_final: the final state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_status: Option<EscrowStatus>,
    /// duplicate, unauthorized, forbidden, malformed, webhook_url_forbidden, unavailable: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The HTTP status of each error code.
pub fn http_status(error: &PluginError) -> u16 {
    match error {
        PluginError::Malformed { .. } => 400,
        PluginError::Unsupported { .. } => 404,
        PluginError::TooLarge { .. } => 413,
        PluginError::Unauthorized { .. } => 401,
        PluginError::Forbidden { .. } => 403,
        PluginError::UnknownAccount { .. } | PluginError::UnknownTransfer { .. } => 404,
        PluginError::AlreadyFinal { .. } => 409,
        PluginError::InsufficientFunds { .. }
        | PluginError::LimitExceeded { .. }
        | PluginError::WrongCondition { .. }
        | PluginError::Expired { .. }
        | PluginError::ExpiryTooFar { .. }
        | PluginError::SupplyCapExceeded { .. }
        | PluginError::AmountOverflow { .. }
        | PluginError::Duplicate { .. }
        | PluginError::WebhookUrlForbidden { .. } => 422,
        PluginError::Unavailable { .. } => 503,
    }
}

fn title(code: &str) -> &'static str {
    match code {
        "insufficient_funds" => "Insufficient funds",
        "unknown_account" => "Unknown account",
        "unknown_transfer" => "Unknown transfer",
        "limit_exceeded" => "Limit exceeded",
        "wrong_condition" => "Wrong fulfillment",
        "expired" => "Expired",
        "already_final" => "Transfer already final",
        "expiry_too_far" => "Expiry too far ahead",
        "supply_cap_exceeded" => "Supply cap exceeded",
        "amount_overflow" => "Amount overflow",
        "duplicate" => "Duplicate request id",
        "unauthorized" => "Unauthorized",
        "forbidden" => "Forbidden",
        "malformed" => "Malformed request",
        "webhook_url_forbidden" => "Webhook URL forbidden",
        "too_large" => "Request body too large",
        "unsupported" => "Not offered by this ledger",
        _ => "Ledger unavailable",
    }
}

impl From<&PluginError> for Problem {
    fn from(error: &PluginError) -> Self {
        let code = error.code();
        let mut p = Problem {
            type_uri: format!("urn:cypherlink:problem:{code}"),
            title: title(code).to_owned(),
            status: http_status(error),
            detail: error.to_string(),
            code: code.to_owned(),
            account: None,
            transfer: None,
            needed: None,
            available: None,
            limit: None,
            expires_at: None,
            latest: None,
            max_hold_ms: None,
            cap: None,
            supply: None,
            transfer_status: None,
            reason: None,
        };
        match error {
            PluginError::InsufficientFunds {
                account,
                needed,
                available,
            } => {
                p.account = Some(account.clone());
                p.needed = Some(*needed);
                p.available = Some(*available);
            }
            PluginError::UnknownAccount { account } => p.account = Some(account.clone()),
            PluginError::UnknownTransfer { id } | PluginError::WrongCondition { id } => {
                p.transfer = Some(*id)
            }
            PluginError::LimitExceeded { account, limit } => {
                p.account = Some(account.clone());
                p.limit = Some(limit.clone());
            }
            PluginError::Expired { expires_at } => p.expires_at = Some(*expires_at),
            PluginError::ExpiryTooFar {
                expires_at,
                latest,
                max_hold_ms,
            } => {
                p.expires_at = Some(*expires_at);
                p.latest = Some(*latest);
                p.max_hold_ms = Some(*max_hold_ms);
            }
            PluginError::SupplyCapExceeded {
                cap,
                supply,
                requested,
            } => {
                p.cap = Some(*cap);
                p.supply = Some(*supply);
                p.needed = Some(*requested);
            }
            PluginError::AmountOverflow { account } => p.account = Some(account.clone()),
            PluginError::AlreadyFinal { id, status } => {
                p.transfer = Some(*id);
                p.transfer_status = Some(*status);
            }
            PluginError::Duplicate { reason }
            | PluginError::Unauthorized { reason }
            | PluginError::Forbidden { reason }
            | PluginError::Malformed { reason }
            | PluginError::WebhookUrlForbidden { reason }
            | PluginError::Unavailable { reason } => p.reason = Some(reason.clone()),
            PluginError::Unsupported { what } => p.reason = Some(what.clone()),
            PluginError::TooLarge { limit } => p.reason = Some(limit.to_string()),
        }
        p
    }
}

impl Problem {
    /// Rebuilds the error a server reported. A problem missing a field its code needs (a
    /// foreign or broken server) becomes `Unavailable`, never a panic.
    pub fn into_error(self) -> PluginError {
        let broken = |what: &str| PluginError::Unavailable {
            reason: format!("ledger answered {} without {what}: {}", self.code, self.detail),
        };
        let reason = || self.reason.clone().unwrap_or_else(|| self.detail.clone());
        match self.code.as_str() {
            "insufficient_funds" => match (&self.account, self.needed, self.available) {
                (Some(a), Some(n), Some(v)) => PluginError::InsufficientFunds {
                    account: a.clone(),
                    needed: n,
                    available: v,
                },
                _ => broken("account, needed and available"),
            },
            "unknown_account" => match &self.account {
                Some(a) => PluginError::UnknownAccount { account: a.clone() },
                None => broken("account"),
            },
            "unknown_transfer" => match self.transfer {
                Some(id) => PluginError::UnknownTransfer { id },
                None => broken("transfer"),
            },
            "limit_exceeded" => match (&self.account, &self.limit) {
                (Some(a), Some(l)) => PluginError::LimitExceeded {
                    account: a.clone(),
                    limit: l.clone(),
                },
                _ => broken("account and limit"),
            },
            "wrong_condition" => match self.transfer {
                Some(id) => PluginError::WrongCondition { id },
                None => broken("transfer"),
            },
            "expired" => match self.expires_at {
                Some(expires_at) => PluginError::Expired { expires_at },
                None => broken("expires_at"),
            },
            "expiry_too_far" => match (self.expires_at, self.latest, self.max_hold_ms) {
                (Some(expires_at), Some(latest), Some(max_hold_ms)) => PluginError::ExpiryTooFar {
                    expires_at,
                    latest,
                    max_hold_ms,
                },
                _ => broken("expires_at, latest and max_hold_ms"),
            },
            "supply_cap_exceeded" => match (self.cap, self.supply, self.needed) {
                (Some(cap), Some(supply), Some(requested)) => PluginError::SupplyCapExceeded {
                    cap,
                    supply,
                    requested,
                },
                _ => broken("cap, supply and needed"),
            },
            "amount_overflow" => match &self.account {
                Some(a) => PluginError::AmountOverflow { account: a.clone() },
                None => broken("account"),
            },
            "already_final" => match (self.transfer, self.transfer_status) {
                (Some(id), Some(status)) => PluginError::AlreadyFinal { id, status },
                _ => broken("transfer and transfer_status"),
            },
            "duplicate" => PluginError::Duplicate { reason: reason() },
            "unauthorized" => PluginError::Unauthorized { reason: reason() },
            "forbidden" => PluginError::Forbidden { reason: reason() },
            "malformed" => PluginError::Malformed { reason: reason() },
            "webhook_url_forbidden" => PluginError::WebhookUrlForbidden { reason: reason() },
            "unsupported" => PluginError::Unsupported { what: reason() },
            "too_large" => match self.reason.as_deref().and_then(|r| r.parse().ok()) {
                Some(limit) => PluginError::TooLarge { limit },
                None => broken("reason (the limit)"),
            },
            _ => PluginError::Unavailable { reason: reason() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_survives_the_wire() {
        let id = TransferId::random();
        let account = AccountId::new("bank-a").unwrap();
        let errors = [
            PluginError::InsufficientFunds {
                account: account.clone(),
                needed: 5,
                available: -3,
            },
            PluginError::UnknownAccount {
                account: account.clone(),
            },
            PluginError::UnknownTransfer { id },
            PluginError::LimitExceeded {
                account,
                limit: "tier 3 daily".into(),
            },
            PluginError::WrongCondition { id },
            PluginError::Expired {
                expires_at: Timestamp::from_unix_millis(5).unwrap(),
            },
            PluginError::AlreadyFinal {
                id,
                status: EscrowStatus::Rejected,
            },
            PluginError::ExpiryTooFar {
                expires_at: Timestamp::from_unix_millis(9_000).unwrap(),
                latest: Timestamp::from_unix_millis(8_000).unwrap(),
                max_hold_ms: 7_000,
            },
            PluginError::SupplyCapExceeded {
                cap: 10,
                supply: 8,
                requested: 3,
            },
            PluginError::AmountOverflow {
                account: AccountId::new("bank-b").unwrap(),
            },
            PluginError::Duplicate { reason: "x".into() },
            PluginError::Unauthorized { reason: "x".into() },
            PluginError::Forbidden { reason: "x".into() },
            PluginError::Malformed { reason: "x".into() },
            PluginError::WebhookUrlForbidden { reason: "x".into() },
            PluginError::Unavailable { reason: "x".into() },
        ];
        for e in errors {
            let json = serde_json::to_string(&Problem::from(&e)).unwrap();
            let back: Problem = serde_json::from_str(&json).unwrap();
            assert_eq!(back.status, http_status(&e));
            assert_eq!(back.into_error(), e);
        }
    }
}
