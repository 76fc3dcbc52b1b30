-- domain: Users and authentication
-- Platform users (the people who build bots and answer handed-off conversations) and how they
-- prove who they are. These tables are global, not tenant tables: a user reaches organizations
-- through memberships and signs in before any organization is chosen, so they carry no org_id
-- and row-level security does not scope them. Secrets are stored only as hashes or ciphertext.

CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    display_name      text,
    -- A password hashing scheme string (argon2id/bcrypt); NULL for users who only use SSO.
    password_hash     text,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('invited', 'active', 'suspended')),
    locale            text NOT NULL DEFAULT 'en',
    preferences       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(preferences) = 'object'),
    email_verified_at timestamptz,
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz
);
COMMENT ON TABLE users IS 'Platform users (builders, operators, live agents); soft-deleted with deleted_at.';
-- A deleted user's address can sign up again, so uniqueness covers live rows only.
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE user_sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- sha256 of the bearer token the browser holds; the token itself is never stored.
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    ip           inet,
    user_agent   text,
    mfa_verified boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    CHECK (expires_at > created_at)
);
COMMENT ON TABLE user_sessions IS 'Dashboard sign-in sessions, stored by token hash.';
CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at) WHERE revoked_at IS NULL;

CREATE TABLE user_mfa_secrets (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('totp', 'webauthn')),
    label             text,
    -- TOTP seed or WebAuthn credential, encrypted with a key derived from BOTRT_SECRET_KEY.
    secret_ciphertext bytea NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'revoked')),
    confirmed_at      timestamptz,
    last_used_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'pending') = (confirmed_at IS NULL))
);
COMMENT ON TABLE user_mfa_secrets IS 'Second factors (TOTP seeds, WebAuthn credentials), encrypted at rest.';
CREATE INDEX user_mfa_secrets_user_id_idx ON user_mfa_secrets (user_id);

CREATE TABLE user_recovery_codes (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL CHECK (octet_length(code_hash) = 32),
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, code_hash)
);
COMMENT ON TABLE user_recovery_codes IS 'One-time 2FA recovery codes, stored as sha256 hashes.';

CREATE TABLE password_resets (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    requested_ip inet,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    CHECK (expires_at > created_at)
);
COMMENT ON TABLE password_resets IS 'Password reset tokens (hashed), single use and short-lived.';
CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);

CREATE TABLE email_verifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    verified_at timestamptz
);
COMMENT ON TABLE email_verifications IS 'Pending proofs that a user owns an email address.';
CREATE INDEX email_verifications_user_id_idx ON email_verifications (user_id);

CREATE TABLE login_attempts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email      text,
    user_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    ip         inet,
    method     text NOT NULL CHECK (method IN ('password', 'sso', 'mfa', 'recovery_code')),
    outcome    text NOT NULL
               CHECK (outcome IN ('succeeded', 'bad_credentials', 'unknown_user', 'mfa_failed', 'locked', 'sso_failed')),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE login_attempts IS 'Sign-in attempts, for lockout and brute-force detection.';
CREATE INDEX login_attempts_user_id_idx ON login_attempts (user_id);
CREATE INDEX login_attempts_email_idx ON login_attempts (lower(email), created_at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, created_at);
