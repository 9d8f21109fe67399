-- Invitations an admin hands out when sign-up is by invitation (--signup invite). Only a hash
-- of the token is stored; an invitation creates one account.
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    created_by BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_by    BIGINT REFERENCES users(id) ON DELETE SET NULL
);
