-- The committee chain's storage. Integers that are u64 in Rust (amounts, nonces, heights) are
-- stored as their two's-complement i64 bit pattern; nothing here does arithmetic on them.

-- Committed blocks in height order, each with the certificate that certifies it and the parts
-- of its state commitment (for receipt proofs).
CREATE TABLE blocks (
    height         INTEGER PRIMARY KEY,
    hash           BLOB NOT NULL UNIQUE,
    view           INTEGER NOT NULL,
    timestamp_ms   INTEGER NOT NULL,
    tx_count       INTEGER NOT NULL,
    block          BLOB NOT NULL,
    qc             BLOB NOT NULL,
    state_parent   BLOB NOT NULL,
    changes_digest BLOB NOT NULL,
    receipts_root  BLOB NOT NULL
);

-- Every committed transaction with its outcome, in block order; indexed by id. (The same bytes
-- can appear twice only as a failed replay, far apart; a lookup by id answers the first.)
CREATE TABLE txs (
    height  INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    id      BLOB NOT NULL,
    signer  BLOB,
    nonce   INTEGER,
    kind    TEXT NOT NULL,
    ok      INTEGER NOT NULL,
    reason  TEXT,
    detail  TEXT,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID;
CREATE INDEX txs_by_id ON txs (id);

-- Index by account: the signer and the counterparty of each transaction.
CREATE TABLE account_txs (
    account BLOB NOT NULL,
    height  INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    PRIMARY KEY (account, height, idx)
) WITHOUT ROWID;

CREATE TABLE accounts (
    id    BLOB PRIMARY KEY,
    nonce INTEGER NOT NULL,
    used  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE balances (
    account BLOB NOT NULL,
    asset   TEXT NOT NULL,
    amount  INTEGER NOT NULL,
    PRIMARY KEY (account, asset)
) WITHOUT ROWID;

CREATE TABLE assets (
    code   TEXT PRIMARY KEY,
    issuer BLOB NOT NULL,
    scale  INTEGER NOT NULL,
    supply INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE escrows (
    id             BLOB PRIMARY KEY,
    payer          BLOB NOT NULL,
    payee          BLOB NOT NULL,
    asset          TEXT NOT NULL,
    amount         INTEGER NOT NULL,
    condition      BLOB NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    memo           BLOB NOT NULL,
    reference      BLOB NOT NULL,
    status         TEXT NOT NULL,
    fulfillment    BLOB,
    created_height INTEGER NOT NULL,
    closed_height  INTEGER
) WITHOUT ROWID;

CREATE TABLE anchors (
    id        BLOB PRIMARY KEY,
    namespace TEXT NOT NULL,
    root      BLOB NOT NULL,
    items     INTEGER NOT NULL,
    submitter BLOB NOT NULL,
    height    INTEGER NOT NULL
) WITHOUT ROWID;

-- The event feed. seq is assigned in commit order from 1, so every node numbers events alike
-- and a cursor means the same thing on any node.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY,
    height  INTEGER NOT NULL,
    tx_id   BLOB NOT NULL,
    kind    TEXT NOT NULL,
    subject BLOB NOT NULL,
    data    TEXT NOT NULL
);

-- (The consensus safety record lives in safety.sqlite beside this database, written with
-- synchronous = FULL before a vote leaves; see SqliteSafety.)
