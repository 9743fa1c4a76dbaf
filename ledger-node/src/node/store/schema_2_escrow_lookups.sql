-- Lookups the chain plugin needs: an escrow by the payer's reference (a payee learns the
-- escrow id from the transfer id it was given), and a payer's open escrows (to refund the
-- expired ones after a restart).
CREATE INDEX escrows_by_reference ON escrows (reference);
CREATE INDEX escrows_open_by_payer ON escrows (payer, expires_at_ms) WHERE status = 'prepared';

-- What a payee said when rejecting (the payer reads it to learn why).
ALTER TABLE escrows ADD COLUMN reject_reason TEXT;
