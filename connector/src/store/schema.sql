-- The connector's journal: every payment, its trail, and how far each ledger's event log has
-- been processed. Amounts are minor units; times are Unix milliseconds.

CREATE TABLE IF NOT EXISTS payments (
    id               TEXT PRIMARY KEY,
    uetr             TEXT,
    state            TEXT    NOT NULL,
    condition        TEXT    NOT NULL,
    destination      TEXT    NOT NULL,
    in_ledger        TEXT    NOT NULL,
    in_transfer      TEXT    NOT NULL,
    in_from          TEXT    NOT NULL,
    in_amount        INTEGER NOT NULL,
    in_expires_at    INTEGER NOT NULL,
    out_ledger       TEXT,
    out_transfer     TEXT,
    out_from         TEXT,
    out_to           TEXT,
    out_amount       INTEGER,
    out_expires_at   INTEGER,
    out_memo         BLOB,
    fee              INTEGER NOT NULL,
    fulfillment      TEXT,
    reject_code      TEXT,
    reject_message   TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_unfinished ON payments (state)
    WHERE state NOT IN ('fulfilled', 'rejected', 'lost');
CREATE INDEX IF NOT EXISTS payments_uetr ON payments (uetr);
CREATE INDEX IF NOT EXISTS payments_created ON payments (created_at);

CREATE TABLE IF NOT EXISTS payment_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id  TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS payment_events_by_payment ON payment_events (payment_id, seq);

CREATE TABLE IF NOT EXISTS ledger_cursors (
    ledger  TEXT PRIMARY KEY,
    cursor  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS quotes (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    body        TEXT    NOT NULL
);

-- What a receiving bank was offered and did (the receiver role).
CREATE TABLE IF NOT EXISTS received (
    transfer        TEXT PRIMARY KEY,
    uetr            TEXT,
    amount          INTEGER NOT NULL,
    reference       TEXT    NOT NULL,
    outcome         TEXT    NOT NULL,
    reject_code     TEXT,
    reject_message  TEXT,
    at              INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS received_uetr ON received (uetr);
