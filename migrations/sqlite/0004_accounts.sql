-- People, their sessions, API keys and the audit log (see server/auth).
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    role           TEXT    NOT NULL CHECK (role IN ('reviewer', 'lead', 'engineer', 'admin')),
    password_hash  TEXT    NOT NULL,                 -- argon2id, PHC string
    created_at     INTEGER NOT NULL,                 -- microseconds since the Unix epoch, UTC
    disabled_at    INTEGER,
    last_login_at  INTEGER
);

-- A session is known by the SHA-256 of its cookie value: the database never holds a usable
-- cookie.
CREATE TABLE sessions (
    token_hash    TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    address       TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    name          TEXT    NOT NULL,
    prefix        TEXT    NOT NULL,                  -- shown in lists: rl_ and 8 characters
    key_hash      TEXT    NOT NULL UNIQUE,           -- SHA-256 of the whole key
    scopes        TEXT    NOT NULL,                  -- comma list: ingest,read,review,export
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_keys_by_user ON api_keys (user_id);

-- Append-only: the triggers refuse every change to a written entry.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL DEFAULT '',
    detail   TEXT    NOT NULL DEFAULT '',
    address  TEXT
);
CREATE INDEX audit_by_action ON audit_log (action, id);
CREATE INDEX audit_by_actor ON audit_log (actor, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
