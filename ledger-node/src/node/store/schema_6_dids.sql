-- The did:cypher registry (state/did.rs). `dids` is each DID's current record, what a restarted
-- node loads into its state: version chain, times, deactivation, and the authorization summary
-- of its current document (capabilityInvocation keys as 32-byte keys back to back, controllers
-- as a JSON array). `did_versions` keeps every version's document as submitted, never dropped;
-- the deactivation is a version without a document.
CREATE TABLE dids (
    did           TEXT PRIMARY KEY,
    version       INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    deactivated   INTEGER NOT NULL,
    document_hash BLOB NOT NULL,
    keys          BLOB NOT NULL,
    controllers   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE did_versions (
    did      TEXT NOT NULL,
    version  INTEGER NOT NULL,
    document BLOB,
    time_ms  INTEGER NOT NULL,
    height   INTEGER NOT NULL,
    tx_id    BLOB NOT NULL,
    PRIMARY KEY (did, version)
);
