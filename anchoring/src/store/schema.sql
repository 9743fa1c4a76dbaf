-- The anchoring service's database. Items are open (no sequence) until their batch is sealed;
-- a batch row is written with its signed anchor transaction before the transaction is sent.
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    digest BLOB NOT NULL CHECK (length(digest) = 32),
    accepted_ms INTEGER NOT NULL,
    sequence INTEGER,
    leaf INTEGER,
    path BLOB,
    CHECK ((sequence IS NULL) = (leaf IS NULL) AND (sequence IS NULL) = (path IS NULL))
) STRICT;

CREATE INDEX items_open ON items (namespace, id) WHERE sequence IS NULL;
CREATE INDEX items_batch ON items (namespace, sequence, leaf);

CREATE TABLE batches (
    namespace TEXT NOT NULL,
    sequence INTEGER NOT NULL CHECK (sequence >= 1),
    previous BLOB NOT NULL CHECK (length(previous) = 32),
    batch_hash BLOB NOT NULL CHECK (length(batch_hash) = 32),
    root BLOB NOT NULL CHECK (length(root) = 32),
    items INTEGER NOT NULL CHECK (items >= 1),
    state TEXT NOT NULL CHECK (state IN ('sealed', 'submitted', 'final')),
    tx BLOB NOT NULL,
    tx_id BLOB NOT NULL CHECK (length(tx_id) = 32),
    nonce INTEGER NOT NULL UNIQUE,
    sealed_ms INTEGER NOT NULL,
    height INTEGER,
    final_ms INTEGER,
    proof TEXT,
    PRIMARY KEY (namespace, sequence),
    CHECK ((state = 'final') = (proof IS NOT NULL))
) STRICT;
