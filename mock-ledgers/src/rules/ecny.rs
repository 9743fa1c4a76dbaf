//! e-CNY (DC/EP): wallets in four tiers by strength of identification, each with a balance
//! limit, a per-payment limit and daily and annual payment limits. Days and years are counted
//! in the configured time zone (China Standard Time by default).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // money and limits: every sum is checked

use std::collections::BTreeMap;

use htlc::Timestamp;
use htlc::money::format_decimal;

use super::{LedgerRules, is_wallet, room_under, would_exceed};
use crate::config::TierLimits;
use crate::server::book::AccountState;
use plugins::error::PluginError;

const MS_PER_DAY: i64 = 86_400_000;

/// e-CNY rules.
#[derive(Debug, Clone)]
pub struct ECnyRules {
    /// Limits per tier.
    pub tiers: BTreeMap<u8, TierLimits>,
    /// Day boundary offset from UTC.
    pub utc_offset_minutes: i64,
    /// Asset scale, for messages.
    pub scale: u8,
}

impl ECnyRules {
    fn tier(&self, wallet: &AccountState) -> Option<(u8, TierLimits)> {
        let t = wallet.terms.tier?;
        self.tiers.get(&t).map(|l| (t, *l))
    }

    /// (day number, year) of an instant in the ledger's time zone.
    fn periods(&self, at: Timestamp) -> (i64, i64) {
        // The offset is within a day either way (checked in the configuration).
        let local = at
            .unix_millis()
            .saturating_add(self.utc_offset_minutes.saturating_mul(60_000));
        let day = local.div_euclid(MS_PER_DAY);
        // Timestamp's RFC 3339 form starts with the year; shift by whole days keeps it exact.
        let year = Timestamp::from_unix_millis(day.saturating_mul(MS_PER_DAY))
            .map(|t| t.to_rfc3339()[..4].parse::<i64>().unwrap_or(0))
            .unwrap_or(0);
        (day, year)
    }

    fn spent(&self, wallet: &AccountState, now: Timestamp) -> (u64, u64) {
        let (day, year) = self.periods(now);
        let daily = if wallet.spent_day_key == day {
            wallet.spent_day
        } else {
            0
        };
        let annual = if wallet.spent_year_key == year {
            wallet.spent_year
        } else {
            0
        };
        (daily, annual)
    }

    fn exceeded(&self, wallet: &AccountState, tier: u8, what: &str, limit: u64) -> PluginError {
        PluginError::LimitExceeded {
            account: wallet.terms.id.clone(),
            limit: format!("e-CNY tier {tier} {what} {}", format_decimal(limit, self.scale)),
        }
    }
}

impl LedgerRules for ECnyRules {
    fn check_outgoing(&self, payer: &AccountState, amount: u64, now: Timestamp) -> Result<(), PluginError> {
        let Some((tier, limits)) = self.tier(payer).filter(|_| is_wallet(payer)) else {
            return Ok(());
        };
        if amount > limits.per_payment {
            return Err(self.exceeded(payer, tier, "per-payment limit", limits.per_payment));
        }
        let (daily, annual) = self.spent(payer, now);
        if daily.saturating_add(amount) > limits.daily {
            return Err(self.exceeded(payer, tier, "daily limit", limits.daily));
        }
        if annual.saturating_add(amount) > limits.annual {
            return Err(self.exceeded(payer, tier, "annual limit", limits.annual));
        }
        Ok(())
    }

    fn record_outgoing(&self, payer: &mut AccountState, amount: u64, now: Timestamp) {
        if self.tier(payer).is_none() {
            return;
        }
        let (daily, annual) = self.spent(payer, now);
        let (day, year) = self.periods(now);
        payer.spent_day_key = day;
        payer.spent_day = daily.saturating_add(amount);
        payer.spent_year_key = year;
        payer.spent_year = annual.saturating_add(amount);
    }

    fn release_outgoing(&self, payer: &mut AccountState, amount: u64, made_at: Timestamp, _now: Timestamp) {
        if self.tier(payer).is_none() {
            return;
        }
        let (day, year) = self.periods(made_at);
        if payer.spent_day_key == day {
            payer.spent_day = payer.spent_day.saturating_sub(amount);
        }
        if payer.spent_year_key == year {
            payer.spent_year = payer.spent_year.saturating_sub(amount);
        }
    }

    fn receivable(&self, payee: &AccountState) -> Option<u64> {
        let (_, limits) = self.tier(payee).filter(|_| is_wallet(payee))?;
        Some(room_under(limits.balance, payee))
    }

    fn check_incoming(&self, payee: &AccountState, amount: u64) -> Result<(), PluginError> {
        let Some((tier, limits)) = self.tier(payee).filter(|_| is_wallet(payee)) else {
            return Ok(());
        };
        if would_exceed(limits.balance, payee, amount) {
            return Err(self.exceeded(
                payee,
                tier,
                "balance limit (pending incoming transfers count)",
                limits.balance,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_years_follow_china_standard_time() {
        let rules = ECnyRules {
            tiers: BTreeMap::new(),
            utc_offset_minutes: 480,
            scale: 2,
        };
        // 2024-12-31T16:00:00Z is 2025-01-01T00:00 in Beijing.
        let before = Timestamp::parse_rfc3339("2024-12-31T15:59:59.999Z").unwrap();
        let after = Timestamp::parse_rfc3339("2024-12-31T16:00:00Z").unwrap();
        assert_eq!(rules.periods(before).1, 2024);
        assert_eq!(rules.periods(after).1, 2025);
        assert_eq!(rules.periods(after).0, rules.periods(before).0 + 1);
    }
}
