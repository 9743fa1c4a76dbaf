-- Anchors carry a sequence attestation: their batch number within (submitter, namespace), the
-- previous batch's hash and their own batch hash. A restarted node rebuilds each namespace's
-- tip (its highest batch) from these rows. Anchors recorded before this migration keep
-- sequence 0 and no hashes.
ALTER TABLE anchors ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE anchors ADD COLUMN previous BLOB;
ALTER TABLE anchors ADD COLUMN batch BLOB;
CREATE INDEX anchors_by_chain ON anchors (submitter, namespace, sequence);
