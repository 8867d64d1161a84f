-- Operations, model versions, calls, their full-text index, append-only reviews and the
-- per-day verdict counts the feed's counters read from.

CREATE TABLE operations (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    output_kind TEXT    NOT NULL DEFAULT 'text' CHECK (output_kind IN ('text', 'json')),
    created_at  INTEGER NOT NULL            -- microseconds since the Unix epoch, UTC
);

CREATE TABLE models (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    UNIQUE (name, version)
);

-- seq is the storage key (small, ordered); id is the public UUIDv7.
CREATE TABLE calls (
    seq             INTEGER PRIMARY KEY,
    id              BLOB    NOT NULL UNIQUE,
    operation_id    INTEGER NOT NULL REFERENCES operations (id),
    model_id        INTEGER NOT NULL REFERENCES models (id),
    created_at      INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    input           TEXT    NOT NULL,       -- JSON: chat messages or a string
    output          TEXT    NOT NULL,
    latency_ms      INTEGER,
    input_tokens    INTEGER,
    output_tokens   INTEGER,
    cost_usd        REAL,
    metadata        TEXT    NOT NULL DEFAULT '{}',
    source          TEXT    NOT NULL DEFAULT '',
    external_id     TEXT,
    -- The current review, copied from its newest revision so the feed filters on an index.
    verdict         INTEGER NOT NULL DEFAULT 0 CHECK (verdict IN (0, 1, 2)),
    review_revision INTEGER NOT NULL DEFAULT 0,
    reviewer        TEXT
);

CREATE UNIQUE INDEX calls_source_external_id ON calls (source, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX calls_by_time ON calls (created_at, seq);
CREATE INDEX calls_by_operation ON calls (operation_id, created_at, seq);
CREATE INDEX calls_by_operation_verdict ON calls (operation_id, verdict, created_at, seq);
CREATE INDEX calls_by_operation_model ON calls (operation_id, model_id, created_at, seq);
CREATE INDEX calls_by_model ON calls (model_id, created_at, seq);
CREATE INDEX calls_by_verdict ON calls (verdict, created_at, seq);

-- Contentless: the text lives in calls; the index holds only what search needs. No positions
-- (detail = none): search is "all these words", never phrases, and the index is far smaller.
CREATE VIRTUAL TABLE calls_fts USING fts5 (
    input, output,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE reviews (
    call_seq         INTEGER NOT NULL REFERENCES calls (seq),
    revision         INTEGER NOT NULL,
    reviewer         TEXT    NOT NULL,
    verdict          INTEGER NOT NULL CHECK (verdict IN (1, 2)),
    corrected_output TEXT,
    tags             TEXT    NOT NULL DEFAULT '[]',   -- JSON array of tag names
    note             TEXT    NOT NULL DEFAULT '',
    sampled          INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (call_seq, revision)
) WITHOUT ROWID;

-- Failure tags offered per operation.
CREATE TABLE tags (
    id           INTEGER PRIMARY KEY,
    operation_id INTEGER NOT NULL REFERENCES operations (id),
    name         TEXT    NOT NULL,
    UNIQUE (operation_id, name)
);

-- The tags of each call's current review (the feed's tag filter).
CREATE TABLE call_tags (
    tag_id   INTEGER NOT NULL REFERENCES tags (id),
    call_seq INTEGER NOT NULL REFERENCES calls (seq),
    PRIMARY KEY (tag_id, call_seq)
) WITHOUT ROWID;

-- Calls per operation x model version x UTC day x current verdict, kept in the same
-- transaction as every insert and review, so counters never scan the calls table.
CREATE TABLE call_counts (
    operation_id INTEGER NOT NULL,
    model_id     INTEGER NOT NULL,
    day          INTEGER NOT NULL,           -- days since the Unix epoch
    verdict      INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (operation_id, model_id, day, verdict)
) WITHOUT ROWID;
