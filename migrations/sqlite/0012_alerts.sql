-- Accuracy alerts (issue 13). A rule per operation a lead turned an alert on for; `firing`
-- is the alert's state after the last evaluation. Each firing or clearing is an event with
-- the figures it was decided on and its webhook delivery (retried with backoff).
CREATE TABLE alert_rules (
    operation_id INTEGER PRIMARY KEY REFERENCES operations (id),
    enabled      INTEGER NOT NULL DEFAULT 0,
    window_days  INTEGER NOT NULL,
    webhook_url  TEXT    NOT NULL DEFAULT '',
    format       TEXT    NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
    firing       INTEGER NOT NULL DEFAULT 0,
    checked_at   INTEGER,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE alert_events (
    id              INTEGER PRIMARY KEY,
    operation_id    INTEGER NOT NULL REFERENCES operations (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('fired', 'cleared')),
    at              INTEGER NOT NULL,
    correct         INTEGER NOT NULL,
    incorrect       INTEGER NOT NULL,
    target          REAL    NOT NULL,
    window_days     INTEGER NOT NULL,
    delivery        TEXT    NOT NULL CHECK (delivery IN ('pending', 'delivered', 'failed', 'none')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER
);
CREATE INDEX alert_events_by_operation ON alert_events (operation_id, id);
CREATE INDEX alert_events_due ON alert_events (delivery, next_attempt_at);

-- Work done once per fleet of instances on one database: the instance whose UPDATE moves
-- `next_run_at` forward runs it; the others find it not due.
CREATE TABLE schedules (
    name        TEXT    PRIMARY KEY,
    next_run_at INTEGER NOT NULL,
    claimed_by  TEXT
);
INSERT INTO schedules (name, next_run_at) VALUES ('alerts', 0);
