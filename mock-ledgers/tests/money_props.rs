//! Money is never created, lost or overflowed on any of the three ledgers: random sequences of
//! issuance, redemption, payments, escrows, fulfilments, rejections and expiries, with amounts
//! near the limits, run against the ledger's book. After every step, whatever its outcome:
//! no balance is below its overdraft, every hold matches the live escrows, balances plus holds
//! equal the supply, the supply moved only by what was issued or redeemed and stays within its
//! cap, and a refused step changed nothing.

use std::collections::HashMap;

use htlc::{Fulfillment, Timestamp};
use mock_ledgers::config::{AccountKind, LedgerConfig, MAX_LEDGER_AMOUNT, fixtures};
use mock_ledgers::server::book::{AccountState, Book, Outcome, Stage};
use plugins::api::PaymentRequest;
use plugins::{AccountId, PluginError, PrepareTransfer, Transfer, TransferId};
use proptest::prelude::*;

/// One step a participant (or the clock) takes.
#[derive(Debug, Clone)]
enum Step {
    Issue {
        to: usize,
        amount: u64,
    },
    Redeem {
        from: usize,
        amount: u64,
    },
    Pay {
        from: usize,
        to: usize,
        amount: u64,
    },
    Prepare {
        from: usize,
        to: usize,
        amount: u64,
        hold_ms: i64,
    },
    Fulfill {
        nth: usize,
        right_preimage: bool,
    },
    Reject {
        nth: usize,
    },
    Advance {
        ms: i64,
    },
}

/// Small everyday amounts, and amounts at and around every limit that could overflow.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 1..500_000u64,
        1 => Just(0u64),
        1 => Just(MAX_LEDGER_AMOUNT),
        1 => (0..3u64).prop_map(|d| MAX_LEDGER_AMOUNT - d),
        1 => Just(MAX_LEDGER_AMOUNT + 1),
        1 => Just(i64::MAX as u64),
        1 => Just(u64::MAX),
        1 => Just(2_305_843_009_213_693_951u64),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let account = 0..16usize;
    prop_oneof![
        (account.clone(), amount()).prop_map(|(to, amount)| Step::Issue { to, amount }),
        (account.clone(), amount()).prop_map(|(from, amount)| Step::Redeem { from, amount }),
        (account.clone(), account.clone(), amount()).prop_map(|(from, to, amount)| Step::Pay {
            from,
            to,
            amount
        }),
        (
            account.clone(),
            account,
            amount(),
            prop_oneof![Just(-1i64), 1..10_000i64, Just(i64::MAX)]
        )
            .prop_map(|(from, to, amount, hold_ms)| Step::Prepare {
                from,
                to,
                amount,
                hold_ms
            }),
        (0..8usize, any::<bool>()).prop_map(|(nth, right_preimage)| Step::Fulfill { nth, right_preimage }),
        (0..8usize).prop_map(|nth| Step::Reject { nth }),
        (1..20_000i64).prop_map(|ms| Step::Advance { ms }),
    ]
}

/// The book plus what the test knows independently of it.
struct Model {
    config: LedgerConfig,
    book: Book,
    ids: Vec<AccountId>,
    now: Timestamp,
    /// Escrows this test prepared, with their preimages.
    escrows: Vec<(TransferId, Fulfillment)>,
    expected_supply: i128,
}

impl Model {
    fn new(config_text: &str, max_supply: Option<&str>) -> Model {
        let config =
            LedgerConfig::from_toml_with(config_text, |f| f.ledger.max_supply = max_supply.map(Into::into))
                .expect("the fixture is valid");
        let now = Timestamp::parse_rfc3339("2026-06-30T12:00:00Z").unwrap();
        let mut book = Book::new(
            &config,
            mock_ledgers::rules::for_config(&config),
            vec![],
            vec![],
            0,
            0,
        );
        let mut stage = Stage::default();
        for spec in &config.accounts {
            book.open_account(
                AccountState::from_spec(spec),
                spec.opening_balance,
                now,
                &mut stage,
            );
        }
        let expected_supply = i128::from(book.supply());
        let ids = config.accounts.iter().map(|a| a.terms.id.clone()).collect();
        Model {
            config,
            book,
            ids,
            now,
            escrows: Vec::new(),
            expected_supply,
        }
    }

    fn account(&self, i: usize) -> &AccountId {
        &self.ids[i % self.ids.len()]
    }

    fn owner(&self, id: &AccountId) -> String {
        self.book
            .account(id)
            .map(|a| a.terms.owner.clone())
            .unwrap_or_default()
    }

    fn central_bank_owner(&self) -> String {
        self.config
            .accounts
            .iter()
            .find(|a| a.terms.kind == AccountKind::CentralBank)
            .map(|a| a.terms.owner.clone())
            .unwrap_or_else(|| "nobody".into())
    }

    fn snapshot(&self) -> (Vec<AccountState>, i64, usize) {
        let accounts = self
            .ids
            .iter()
            .filter_map(|id| self.book.account(id).cloned())
            .collect();
        (accounts, self.book.supply(), self.book.live_count())
    }

    /// Runs one step; returns its result and whether a refusal may legitimately change state
    /// (a fulfil or reject of an escrow that just expired refunds it on the spot).
    fn run(&mut self, step: &Step) -> (Result<Outcome, PluginError>, bool) {
        let mut stage = Stage::default();
        let stored = HashMap::new();
        let now = self.now;
        match step {
            Step::Issue { to, amount } => {
                let to = self.account(*to).clone();
                let caller = self.central_bank_owner();
                let r = self.book.issue(&caller, to, *amount, now, &mut stage);
                if r.is_ok() {
                    self.expected_supply += i128::from(*amount);
                }
                (r, false)
            }
            Step::Redeem { from, amount } => {
                let from = self.account(*from).clone();
                let caller = self.owner(&from);
                let r = self.book.redeem(&caller, from, *amount, now, &mut stage);
                if r.is_ok() {
                    self.expected_supply -= i128::from(*amount);
                }
                (r, false)
            }
            Step::Pay { from, to, amount } => {
                let (from, to) = (self.account(*from).clone(), self.account(*to).clone());
                let caller = self.owner(&from);
                let request = PaymentRequest {
                    from,
                    to,
                    amount: *amount,
                    reference: None,
                };
                (self.book.pay(&caller, request, now, &mut stage), false)
            }
            Step::Prepare {
                from,
                to,
                amount,
                hold_ms,
            } => {
                let (from, to) = (self.account(*from).clone(), self.account(*to).clone());
                let caller = self.owner(&from);
                let fulfillment = Fulfillment::from_slice(&rand::random::<[u8; 32]>()).unwrap();
                let request = PrepareTransfer {
                    id: TransferId::random(),
                    from,
                    to,
                    amount: *amount,
                    condition: fulfillment.condition(),
                    expires_at: now.checked_add_millis(*hold_ms).unwrap_or(Timestamp::MAX),
                    memo: b"prop".to_vec(),
                };
                let id = request.id;
                let r = self.book.prepare(&caller, request, now, &mut stage, &stored);
                if r.is_ok() {
                    self.escrows.push((id, fulfillment));
                }
                (r, false)
            }
            Step::Fulfill { nth, right_preimage } => {
                let Some(transfer) = self.nth_live(*nth) else {
                    return (
                        Err(PluginError::Unsupported {
                            what: "none live".into(),
                        }),
                        false,
                    );
                };
                let preimage = match self.escrows.iter().find(|(id, _)| *id == transfer.id) {
                    Some((_, f)) if *right_preimage => *f,
                    _ => Fulfillment::from_slice(&[7; 32]).unwrap(),
                };
                let caller = self.owner(&transfer.to);
                let r = self
                    .book
                    .fulfill(&caller, transfer.id, preimage, now, &mut stage, &stored);
                (r, true)
            }
            Step::Reject { nth } => {
                let Some(transfer) = self.nth_live(*nth) else {
                    return (
                        Err(PluginError::Unsupported {
                            what: "none live".into(),
                        }),
                        false,
                    );
                };
                let caller = self.owner(&transfer.to);
                let r = self
                    .book
                    .reject(&caller, transfer.id, None, now, &mut stage, &stored);
                (r, true)
            }
            Step::Advance { ms } => {
                self.now = self.now.checked_add_millis(*ms).unwrap();
                self.book.expire_due(self.now, &mut stage);
                (Err(PluginError::Unsupported { what: "clock".into() }), true)
            }
        }
    }

    fn nth_live(&self, nth: usize) -> Option<Transfer> {
        let live: Vec<&TransferId> = self
            .escrows
            .iter()
            .map(|(id, _)| id)
            .filter(|id| self.book.live(id).is_some())
            .collect();
        if live.is_empty() {
            return None;
        }
        self.book.live(live[nth % live.len()]).cloned()
    }

    fn check_invariants(&self) -> Result<(), TestCaseError> {
        let mut balances = 0i128;
        let mut held = 0i128;
        let mut held_by: HashMap<&AccountId, u64> = HashMap::new();
        for (id, _) in &self.escrows {
            if let Some(t) = self.book.live(id) {
                *held_by.entry(&t.from).or_default() += t.amount;
            }
        }
        for id in &self.ids {
            let a = self.book.account(id).unwrap();
            prop_assert!(
                i128::from(a.balance) >= -i128::from(a.terms.overdraft_limit),
                "{id}: balance {} below its overdraft {}",
                a.balance,
                a.terms.overdraft_limit
            );
            prop_assert_eq!(a.held, held_by.get(id).copied().unwrap_or(0), "{}: held", id);
            balances += i128::from(a.balance);
            held += i128::from(a.held);
        }
        let supply = i128::from(self.book.supply());
        prop_assert_eq!(balances + held, supply, "balances + holds = supply");
        prop_assert_eq!(supply, self.expected_supply, "supply moved only by issue/redeem");
        prop_assert!(supply >= 0 && supply <= i128::from(self.config.max_supply));
        Ok(())
    }
}

fn run_sequence(config_text: &str, max_supply: Option<&str>, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut model = Model::new(config_text, max_supply);
    model.check_invariants()?;
    for step in steps {
        let before = model.snapshot();
        let (result, may_change_on_refusal) = model.run(step);
        if result.is_err() && !may_change_on_refusal {
            prop_assert_eq!(&model.snapshot(), &before, "refused {:?} changed state", step);
        }
        model.check_invariants()?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_bank_ledger_keeps_every_minor_unit(steps in prop::collection::vec(step(), 1..60)) {
        run_sequence(fixtures::BANK, None, &steps)?;
    }

    #[test]
    fn the_digital_euro_keeps_every_minor_unit(steps in prop::collection::vec(step(), 1..60)) {
        run_sequence(fixtures::DIGITAL_EURO, None, &steps)?;
    }

    #[test]
    fn e_cny_keeps_every_minor_unit(steps in prop::collection::vec(step(), 1..60)) {
        run_sequence(fixtures::E_CNY, None, &steps)?;
    }

    #[test]
    fn a_small_supply_cap_holds(steps in prop::collection::vec(step(), 1..60)) {
        run_sequence(fixtures::DIGITAL_EURO, Some("3010000.00"), &steps)?;
    }
}

/// The reviewer's reproduction: four issuances of 2,305,843,009,213,693,951 minor units. Under
/// the default cap the first fits (the cap is that much); the others are refused with the cap,
/// and neither the balance nor the supply changes after the first.
#[test]
fn repeated_huge_issuance_is_refused_at_the_cap() {
    let mut model = Model::new(fixtures::DIGITAL_EURO, None);
    let to = model
        .config
        .accounts
        .iter()
        .find(|a| a.terms.kind == AccountKind::Intermediary)
        .unwrap()
        .terms
        .id
        .clone();
    let caller = model.central_bank_owner();
    let huge = 2_305_843_009_213_693_951u64;
    let mut refused = 0;
    for _ in 0..4 {
        let before = model.snapshot();
        let mut stage = Stage::default();
        match model.book.issue(&caller, to.clone(), huge, model.now, &mut stage) {
            Ok(_) => model.expected_supply += i128::from(huge),
            Err(PluginError::SupplyCapExceeded { cap, requested, .. }) => {
                assert_eq!((cap, requested), (MAX_LEDGER_AMOUNT, huge));
                assert_eq!(model.snapshot(), before);
                refused += 1;
            }
            Err(e) => panic!("unexpected {e}"),
        }
        model.check_invariants().unwrap();
    }
    assert!(refused >= 3, "at most one issuance of that size fits");
    assert!(model.book.account(&to).unwrap().balance > 0);
}
