//! A commercial bank's core ledger: no rules beyond the book's own (funds or overdraft).

use super::LedgerRules;

/// Plain bank rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct BankRules;

impl LedgerRules for BankRules {}
