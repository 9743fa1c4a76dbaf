//! Kill -9 of a validator in the middle of a write burst: it rejoins on its data directory and
//! the committee keeps one history.
//!
//! Four `cypherlink node` processes on 127.0.0.1. Banks transfer DC/EP to each other as fast as
//! the chain commits, each bank one transaction after another, spread over every validator. A
//! third of the way through, the leader of the moment gets SIGKILL; whatever was sent to it and
//! not answered final is sent again, the same bytes, to the next validator (a resubmission is
//! idempotent). Two thirds of the way through it is restarted on the same data directory and
//! takes submissions again; once the burst is over, a transfer sent to it must become final
//! there. By then it must have caught up, and every validator must hold the same block, with
//! the same state root, at every height; each transaction exactly once, final everywhere at the
//! same place; and the same balances, which add up to the supply.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ledger_node::api::{ChainClient, Signer, TxState, TxStatus};
use ledger_node::state::{AccountId, AssetCode, Op, TxId};

mod common;
use common::committee::{LocalCommittee, N, account_key, leader, same_height};
use common::load;

/// Far above what any step needs; only so that a bug fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(90);
/// How long one validator gets to answer a submission final before the next one is asked.
const ATTEMPT: Duration = Duration::from_secs(10);
/// Banks sending at once, each its own signer.
const BANKS: usize = 6;
/// Transfers each bank sends.
const PER_BANK: usize = 40;
const OPENING: u64 = 1_000_000;

/// Sends `tx` to validator `first`, then to the next ones in turn, until one answers it final:
/// the same bytes each time, since a resubmission is idempotent. Its final status, and how many
/// validators failed it first (down, behind, or not final in time).
async fn deliver(clients: &[ChainClient], first: usize, tx: &[u8]) -> (TxStatus, usize) {
    let deadline = Instant::now() + PATIENCE;
    for attempt in 0.. {
        let client = &clients[(first + attempt) % N];
        let answer = tokio::time::timeout(ATTEMPT, client.submit_and_wait(tx, ATTEMPT)).await;
        if let Ok(Ok(status)) = answer {
            assert_ne!(
                status.status,
                TxState::Failed,
                "a valid transfer failed: {status:?}"
            );
            if status.status == TxState::Final {
                return (status, attempt);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no validator made the transfer final in {PATIENCE:?}"
        );
    }
    unreachable!()
}

/// One bank sending to the next one.
struct Bank {
    signer: Signer,
    to: AccountId,
    /// Each transfer it sent, with what it was answered.
    sent: Vec<(u64, TxStatus)>,
    /// Sends that went to another validator than the first one asked.
    failed_over: usize,
}

impl Bank {
    /// Sends `amount` through validator `first` (or the ones after it) and records the answer;
    /// which validator answered.
    async fn transfer(
        &mut self,
        clients: &[ChainClient],
        first: usize,
        amount: u64,
        asset: &AssetCode,
    ) -> usize {
        let tx = self.signer.sign(Op::Transfer {
            asset: asset.clone(),
            to: self.to,
            amount,
        });
        let (status, skipped) = deliver(clients, first, &tx).await;
        self.failed_over += skipped;
        self.sent.push((amount, status));
        (first + skipped) % N
    }

    fn total_sent(&self) -> u64 {
        self.sent.iter().map(|(amount, _)| amount).sum()
    }
}

/// One bank's part of the burst: its transfers, each sent once the one before is final, spread
/// over the validators.
async fn burst(
    clients: Vec<ChainClient>,
    mut bank: Bank,
    which: usize,
    asset: AssetCode,
    acknowledged: Arc<AtomicUsize>,
) -> Bank {
    for n in 0..PER_BANK {
        let amount = 1 + (n as u64 * 7 + which as u64) % 100;
        bank.transfer(&clients, which + n, amount, &asset).await;
        acknowledged.fetch_add(1, Ordering::Relaxed);
    }
    bank
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_killed_mid_burst_rejoins_with_the_same_history() {
    let tmp = tempfile::tempdir().unwrap();
    let mut net = LocalCommittee::start(tmp.path(), 400).await;
    let clients: Vec<ChainClient> = (0..N).map(|i| net.client(i)).collect();
    let chain_id = clients[0].chain_id().await.unwrap();
    let dcep = AssetCode::new("DC/EP").unwrap();
    let mut pboc = Signer::new(account_key("central bank"), chain_id, 0);
    let banks: Vec<Signer> = (0..BANKS)
        .map(|b| Signer::new(account_key(&format!("bank {b}")), chain_id, 0))
        .collect();
    let accounts: Vec<AccountId> = banks.iter().map(Signer::account).collect();
    let create = pboc.sign(Op::CreateAsset {
        code: dcep.clone(),
        scale: 2,
    });
    let mut setup = vec![deliver(&clients, 0, &create).await.0];
    for account in &accounts {
        let issue = pboc.sign(Op::Issue {
            asset: dcep.clone(),
            to: *account,
            amount: OPENING,
        });
        setup.push(deliver(&clients, 0, &issue).await.0);
    }
    // Every validator has stored the issues before banks spend through it.
    same_height(&clients, PATIENCE).await;

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (banks.into_iter().enumerate())
        .map(|(b, signer)| {
            let bank = Bank {
                signer,
                to: accounts[(b + 1) % BANKS],
                sent: Vec::new(),
                failed_over: 0,
            };
            let (clients, dcep, acks) = (clients.clone(), dcep.clone(), acknowledged.clone());
            tokio::spawn(burst(clients, bank, b, dcep, acks))
        })
        .collect();
    let total = BANKS * PER_BANK;
    load::reach(&acknowledged, total / 3).await;
    let view = clients[0].status().await.unwrap().view;
    let victim = leader(view);
    net.kill(victim).await;
    let at_kill = acknowledged.load(Ordering::Relaxed);
    load::reach(&acknowledged, 2 * total / 3).await;
    net.start_node(victim).await;
    let restarted = Instant::now();
    let at_restart = acknowledged.load(Ordering::Relaxed);
    let behind = clients[victim].status().await.unwrap().committed_height;
    let ahead = clients[(victim + 1) % N].status().await.unwrap().committed_height;
    let mut banks = load::join(workers).await;
    // It takes part again: a transfer sent to it becomes final there.
    let answered_by = banks[0].transfer(&clients, victim, 1, &dcep).await;
    assert_eq!(
        answered_by, victim,
        "the restarted validator makes a transfer final"
    );

    // It caught up: one height and state root everywhere, and the same block at every height.
    let height = same_height(&clients, PATIENCE).await;
    let caught_up = restarted.elapsed();
    let mut included: BTreeMap<TxId, u32> = BTreeMap::new();
    let mut parent = None;
    for h in 1..=height {
        let mut blocks = Vec::new();
        for c in &clients {
            blocks.push(c.block(h).await.unwrap().expect("every node has every block"));
        }
        let first = &blocks[0];
        for (i, b) in blocks.iter().enumerate() {
            assert_eq!(
                (b.hash, b.state_root),
                (first.hash, first.state_root),
                "FORK at height {h}: node {i} differs from node 0"
            );
        }
        if let Some(parent) = parent {
            assert_eq!(
                first.parent_hash,
                parent,
                "block {h} does not extend block {}",
                h - 1
            );
        }
        parent = Some(first.hash);
        for id in &first.tx_ids {
            *included.entry(*id).or_default() += 1;
        }
    }

    // Every transaction exactly once, final everywhere at the place its sender was told.
    let sent = banks.iter().flat_map(|b| &b.sent).map(|(_, status)| status);
    let answered: Vec<&TxStatus> = setup.iter().chain(sent).collect();
    assert_eq!(
        included.len(),
        answered.len(),
        "the chain holds exactly the transactions sent"
    );
    for status in &answered {
        assert_eq!(included.get(&status.id), Some(&1), "{status:?} committed once");
        for (i, c) in clients.iter().enumerate() {
            let there = c.tx(&status.id).await.unwrap();
            assert_eq!(there.as_ref(), Some(*status), "node {i} disagrees");
        }
    }

    // Balances: the same everywhere, each bank's opening plus what it got less what it sent, and
    // they add up to the supply.
    let sent_by: Vec<u64> = banks.iter().map(Bank::total_sent).collect();
    for (i, c) in clients.iter().enumerate() {
        let mut sum = 0;
        for (b, account) in accounts.iter().enumerate() {
            let expected = OPENING - sent_by[b] + sent_by[(b + BANKS - 1) % BANKS];
            let balance = c.balance(account, &dcep).await.unwrap();
            assert_eq!(balance, expected, "bank {b} on node {i}");
            let nonce = c.account(account).await.unwrap().nonce;
            assert_eq!(nonce, banks[b].sent.len() as u64, "bank {b}'s nonce on node {i}");
            sum += balance;
        }
        let supply = c.asset(&dcep).await.unwrap().expect("DC/EP").supply;
        assert_eq!(sum, supply, "node {i}: balances add up to the supply");
        assert_eq!(supply, OPENING * BANKS as u64);
    }
    let failed_over: usize = banks.iter().map(|b| b.failed_over).sum();
    eprintln!(
        "validator {victim} (leader of view {view}) killed after {at_kill} of {total} transfers \
         and restarted after {at_restart}, at height {behind} with the others at {ahead}; \
         {failed_over} sends went on to another validator; all at height {height} with one \
         history {:.1} s after the restart",
        caught_up.as_secs_f64()
    );
}
