-- One audit event; the trigger chains it (chain_seq, prev_hash, hash) to its organization's trail.
INSERT INTO audit_logs (org_id, chain_seq, actor_type, actor_id, action, target_type, target_id, metadata, prev_hash, hash)
VALUES ($1, 1, $2, $3, $4, $5, $6, $7, '\x0000000000000000000000000000000000000000000000000000000000000000',
        '\x0000000000000000000000000000000000000000000000000000000000000000');
