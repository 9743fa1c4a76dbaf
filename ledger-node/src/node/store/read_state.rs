//! The reader's queries about the committed state: accounts with their balances, assets,
//! escrows, anchors, and the slice of the state that admission needs to judge a batch.

use htlc::EscrowStatus;
use sqlx::Row;

use super::rows::{
    asset_of, b32, escrow_of, escrow_select, escrow_view_of, escrow_view_select, narrow, parsed, u,
};
use super::{Reader, StoreError};
use crate::api::types::{AccountView, AnchorView, AssetBalance, AssetView, EscrowView};
use crate::state::types::hex_of;
use crate::state::{AccountId, AssetCode, Escrow, EscrowId, State, Transaction, TxId};

impl Reader {
    /// An account's committed state.
    pub async fn account(&self, id: &AccountId) -> Result<AccountView, StoreError> {
        let nonce: Option<i64> = sqlx::query_scalar("SELECT nonce FROM accounts WHERE id = ?")
            .bind(&id.0[..])
            .fetch_optional(&self.pool)
            .await?;
        // Balances, and what the account's open escrows hold (the partial index of migration 2
        // covers the second part).
        let balances = sqlx::query(
            "SELECT asset, SUM(amount), SUM(held) FROM ( \
               SELECT asset, amount, 0 AS held FROM balances WHERE account = ?1 \
               UNION ALL \
               SELECT asset, 0, amount FROM escrows WHERE payer = ?1 AND status = 'prepared' \
             ) GROUP BY asset ORDER BY asset",
        )
        .bind(&id.0[..])
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            Ok(AssetBalance {
                asset: parsed(r.get::<&str, _>(0))?,
                amount: u(r.get(1)),
                held: u(r.get(2)),
            })
        })
        .collect::<Result<_, StoreError>>()?;
        Ok(AccountView {
            account: *id,
            nonce: nonce.map_or(0, u),
            balances,
        })
    }

    /// The part of the committed state that admission needs to judge `txs`
    /// ([`crate::state::Admission`]): the escrows they name, the accounts they touch (signers,
    /// recipients, payees, the named escrows' parties) with their balances, and the assets they
    /// name. Read in one SQLite transaction, so all of it is from one committed height: the
    /// stored one, which is what the API answers (a client that waited for a transaction to be
    /// final finds its effects here).
    pub async fn admission_state(&self, txs: &[&Transaction]) -> Result<State, StoreError> {
        use std::collections::BTreeSet;

        use crate::state::Op;
        let mut accounts: BTreeSet<AccountId> = BTreeSet::new();
        let mut assets: BTreeSet<&str> = BTreeSet::new();
        let mut escrows: BTreeSet<EscrowId> = BTreeSet::new();
        for tx in txs {
            let signer = tx.body.signer;
            accounts.insert(signer);
            match &tx.body.op {
                Op::CreateAsset { code, .. } => {
                    assets.insert(code.as_str());
                }
                Op::Issue { asset, to, .. } | Op::Transfer { asset, to, .. } => {
                    assets.insert(asset.as_str());
                    accounts.insert(*to);
                }
                Op::Redeem { asset, .. } => {
                    assets.insert(asset.as_str());
                }
                Op::EscrowCreate {
                    reference,
                    asset,
                    payee,
                    ..
                } => {
                    assets.insert(asset.as_str());
                    accounts.insert(*payee);
                    escrows.insert(EscrowId::derive(&signer, reference));
                }
                Op::EscrowFulfill { escrow, .. }
                | Op::EscrowReject { escrow, .. }
                | Op::EscrowRefund { escrow } => {
                    escrows.insert(*escrow);
                }
                Op::Anchor { .. }
                | Op::DidCreate { .. }
                | Op::DidUpdate { .. }
                | Op::DidDeactivate { .. } => {}
            }
        }
        let hexes = |ids: &mut dyn Iterator<Item = &[u8; 32]>| -> Result<String, StoreError> {
            serde_json::to_string(&ids.map(|id| hex_of(id)).collect::<Vec<_>>())
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        let mut state = State::default();
        let mut db = self.pool.begin().await?;
        if !escrows.is_empty() {
            let rows = sqlx::query(escrow_select!("id IN (SELECT unhex(value) FROM json_each(?))"))
                .bind(hexes(&mut escrows.iter().map(|e| &e.0))?)
                .fetch_all(&mut *db)
                .await?;
            for row in &rows {
                let e = escrow_of(row)?;
                if e.status() == EscrowStatus::Prepared {
                    accounts.insert(e.payer);
                    accounts.insert(e.payee);
                    state.open.insert(e.id, e);
                } else {
                    state.closed.insert(e.id, e.status());
                }
            }
        }
        let ids = hexes(&mut accounts.iter().map(|a| &a.0))?;
        for row in sqlx::query(
            "SELECT id, nonce, used FROM accounts WHERE id IN (SELECT unhex(value) FROM json_each(?))",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?
        {
            let a = state
                .accounts
                .entry(AccountId(b32(row.get::<&[u8], _>(0))?))
                .or_default();
            a.nonce = u(row.get(1));
            a.used = u(row.get(2));
        }
        for row in sqlx::query(
            "SELECT account, asset, amount FROM balances \
             WHERE account IN (SELECT unhex(value) FROM json_each(?))",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?
        {
            let asset: AssetCode = parsed(row.get::<&str, _>(1))?;
            state
                .accounts
                .entry(AccountId(b32(row.get::<&[u8], _>(0))?))
                .or_default()
                .set_balance(&asset, u(row.get(2)));
        }
        if !assets.is_empty() {
            let codes = serde_json::to_string(&assets).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            for row in sqlx::query(
                "SELECT code, issuer, scale, supply FROM assets WHERE code IN (SELECT value FROM json_each(?))",
            )
            .bind(codes)
            .fetch_all(&mut *db)
            .await?
            {
                let (code, info) = asset_of(&row)?;
                state.assets.insert(code, info);
            }
        }
        super::dids::admission_dids(&mut db, txs, &mut state).await?;
        db.commit().await?;
        Ok(state)
    }

    /// An asset.
    pub async fn asset(&self, code: &AssetCode) -> Result<Option<AssetView>, StoreError> {
        let row = sqlx::query("SELECT code, issuer, scale, supply FROM assets WHERE code = ?")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(AssetView {
                code: parsed(r.get::<&str, _>(0))?,
                issuer: AccountId(b32(r.get::<&[u8], _>(1))?),
                scale: narrow(r.get(2), "asset scale")?,
                supply: u(r.get(3)),
            })
        })
        .transpose()
    }

    /// An escrow.
    pub async fn escrow(&self, id: &EscrowId) -> Result<Option<Escrow>, StoreError> {
        let row = sqlx::query(escrow_select!("id = ?"))
            .bind(&id.0[..])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(escrow_of).transpose()
    }

    /// An escrow with its block times.
    pub async fn escrow_view(&self, id: &EscrowId) -> Result<Option<EscrowView>, StoreError> {
        let row = sqlx::query(escrow_view_select!("e.id = ?"))
            .bind(&id.0[..])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(escrow_view_of).transpose()
    }

    /// Escrows created with `reference` (by any payer), oldest first.
    pub async fn escrows_by_reference(
        &self,
        reference: &[u8; 16],
        limit: u32,
    ) -> Result<Vec<EscrowView>, StoreError> {
        let rows = sqlx::query(escrow_view_select!(
            "e.reference = ? ORDER BY e.created_height LIMIT ?"
        ))
        .bind(&reference[..])
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(escrow_view_of).collect()
    }

    /// `payer`'s escrows that are still open, earliest expiry first (what a payer refunds).
    pub async fn open_escrows_of(
        &self,
        payer: &AccountId,
        limit: u32,
    ) -> Result<Vec<EscrowView>, StoreError> {
        let rows = sqlx::query(escrow_view_select!(
            "e.payer = ? AND e.status = 'prepared' ORDER BY e.expires_at_ms LIMIT ?"
        ))
        .bind(&payer.0[..])
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(escrow_view_of).collect()
    }

    /// An anchor (one recorded before anchors had sequences has zero hashes).
    pub async fn anchor(&self, id: &[u8; 32]) -> Result<Option<AnchorView>, StoreError> {
        let row = sqlx::query(
            "SELECT id, namespace, root, items, submitter, height, sequence, previous, batch \
                 FROM anchors WHERE id = ?",
        )
        .bind(&id[..])
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(AnchorView {
                id: TxId(b32(r.get::<&[u8], _>(0))?),
                namespace: r.get(1),
                root: b32(r.get::<&[u8], _>(2))?,
                items: u(r.get(3)),
                submitter: AccountId(b32(r.get::<&[u8], _>(4))?),
                height: u(r.get(5)),
                sequence: u(r.get(6)),
                previous: opt32(r.get(7))?,
                batch: opt32(r.get(8))?,
            })
        })
        .transpose()
    }
}

/// A hash column that may be NULL (rows from before its migration): zeros then.
fn opt32(b: Option<&[u8]>) -> Result<[u8; 32], StoreError> {
    b.map_or(Ok([0; 32]), b32)
}
