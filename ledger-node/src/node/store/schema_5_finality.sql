-- Finality evidence: at each commit of block C (the newest block of the commit), C's direct
-- child C' (proposed in the next view) and the certificate of C'. With the stored headers from
-- any block B up to C, that is B's finality proof under the two-chain rule. Keyed by C's
-- height; the proof of B uses the first row at or above B's height.
CREATE TABLE finality (
    height   INTEGER PRIMARY KEY,
    child    BLOB NOT NULL,
    child_qc BLOB NOT NULL
);
