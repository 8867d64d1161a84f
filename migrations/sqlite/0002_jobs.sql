-- Background jobs, claimed once whatever the number of instances (see store/jobs.rs).
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL DEFAULT '{}',       -- JSON
    state       TEXT    NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_after   INTEGER NOT NULL,                    -- microseconds since the Unix epoch, UTC
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    claimed_at  INTEGER,
    finished_at INTEGER,
    error       TEXT
);

CREATE INDEX jobs_due ON jobs (state, run_after, id);

-- A review replaces its call's tags: find them by call, not by scanning every tag's calls.
CREATE INDEX call_tags_by_call ON call_tags (call_seq);
