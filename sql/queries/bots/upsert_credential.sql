-- A channel secret, sealed by storage/secrets.py; rotated_at marks a changed value.
INSERT INTO channel_credentials (org_id, channel_id, name, ciphertext)
VALUES ($1, $2, $3, $4)
ON CONFLICT (channel_id, name) DO UPDATE
    SET ciphertext = EXCLUDED.ciphertext, rotated_at = now();
