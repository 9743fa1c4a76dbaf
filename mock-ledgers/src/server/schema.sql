-- The ledger's durable state. Money columns are integers of minor units.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    owner           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    overdraft_limit INTEGER NOT NULL,
    tier            INTEGER,
    linked_account  TEXT,
    merchant        INTEGER NOT NULL,
    balance         INTEGER NOT NULL,
    held            INTEGER NOT NULL,
    incoming        INTEGER NOT NULL,
    spent_day_key   INTEGER NOT NULL,
    spent_day       INTEGER NOT NULL,
    spent_year_key  INTEGER NOT NULL,
    spent_year      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE transfers (
    id           TEXT PRIMARY KEY,
    payer        TEXT NOT NULL,
    payee        TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    condition    TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    memo         BLOB NOT NULL,
    status       TEXT NOT NULL,
    fulfillment  TEXT,
    prepared_at  INTEGER NOT NULL,
    finalized_at INTEGER
);
CREATE INDEX transfers_live ON transfers (status) WHERE status = 'prepared';

-- The event log; `cursor` is the resume position clients keep.
CREATE TABLE events (
    cursor      INTEGER PRIMARY KEY,
    payer_owner TEXT NOT NULL,
    payee_owner TEXT NOT NULL,
    body        TEXT NOT NULL
);

-- Booked entries, for statements.
CREATE TABLE entries (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT NOT NULL,
    booked_at     INTEGER NOT NULL,
    amount        INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    reference     TEXT NOT NULL,
    counterparty  TEXT
);
CREATE INDEX entries_by_account ON entries (account, seq);

-- First responses to POSTs, keyed by participant and Idempotency-Key.
CREATE TABLE idempotency (
    scope_key    TEXT PRIMARY KEY,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB NOT NULL,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- One webhook per key, with its delivery state: events up to `cursor` are acknowledged.
CREATE TABLE webhooks (
    key_id          TEXT PRIMARY KEY,
    participant     TEXT NOT NULL,
    url             TEXT NOT NULL,
    cursor          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER,
    last_error      TEXT
) WITHOUT ROWID;
