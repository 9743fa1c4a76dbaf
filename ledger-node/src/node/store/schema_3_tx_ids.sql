-- The by-id lookup leaves the transaction table's own index: its rows are held in memory for
-- recent blocks and merged in sorted batches with the by-account index (store/recent.rs).
-- A row carries the id's first 8 bytes, which is all a lookup needs to find the candidate
-- rows (the full id is compared in `txs`), and packs about three times as many rows per page.
DROP INDEX txs_by_id;

CREATE TABLE tx_ids (
    prefix BLOB NOT NULL,
    height INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    PRIMARY KEY (prefix, height, idx)
) WITHOUT ROWID;

-- Every block at or below this height has its index rows (by account and by id) in SQLite;
-- those of later blocks are rebuilt in memory from the stored blocks when the store opens.
CREATE TABLE merged_index (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    height INTEGER NOT NULL
);

INSERT INTO merged_index (id, height) SELECT 1, COALESCE(MAX(height), 0) FROM account_txs;
INSERT INTO tx_ids (prefix, height, idx)
    SELECT substr(id, 1, 8), height, idx FROM txs
    WHERE height <= (SELECT height FROM merged_index WHERE id = 1);
