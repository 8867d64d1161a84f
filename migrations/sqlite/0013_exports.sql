-- Dataset exports (issue 14): the spec an engineer or script asked for, the job that builds it
-- (see store/jobs.rs), its progress, and once finished its manifest (JSON). A deleted export
-- keeps its row and manifest; its files are gone.
CREATE TABLE exports (
    id               INTEGER PRIMARY KEY,
    job_id           INTEGER,
    spec             TEXT    NOT NULL,                 -- JSON
    state            TEXT    NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    rows_total       INTEGER NOT NULL DEFAULT 0,
    rows_done        INTEGER NOT NULL DEFAULT 0,
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    manifest         TEXT,                             -- JSON, without the example list
    deleted_at       INTEGER
);
