-- What leads define for each operation (issue 12): guidelines, the JSON Schema of a `json`
-- operation's output, the accuracy target and minimum sample trends and routing use, and
-- whether reviewers may only pick listed tags. `configured_at` is NULL until someone
-- changes the settings (an operation created by ingest is "not configured").
ALTER TABLE operations ADD COLUMN guidelines TEXT NOT NULL DEFAULT '';
ALTER TABLE operations ADD COLUMN json_schema TEXT;
ALTER TABLE operations ADD COLUMN accuracy_target DOUBLE PRECISION;
ALTER TABLE operations ADD COLUMN min_reviews BIGINT NOT NULL DEFAULT 30;
ALTER TABLE operations ADD COLUMN listed_tags_only BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE operations ADD COLUMN configured_at BIGINT;

-- The failure-tag taxonomy. A listed tag is part of the operation's list (offered to
-- reviewers); a tag a reviewer typed that is not listed exists only because reviews use it.
-- A retired tag is no longer offered; past reviews keep it. `alias_of` points a renamed or
-- merged name at the tag it now means: `call_tags` only ever holds tags that are no alias.
ALTER TABLE tags ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN listed BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE tags ADD COLUMN retired BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE tags ADD COLUMN alias_of BIGINT REFERENCES tags (id);

-- Calls a reviewer passed over in the review queue, with the reason they chose (NULL: none).
CREATE TABLE skips (
    call_seq   BIGINT  NOT NULL REFERENCES calls (seq),
    reviewer   TEXT    NOT NULL,
    reason     TEXT,
    skipped_at BIGINT  NOT NULL
);
CREATE INDEX skips_by_call ON skips (call_seq);
CREATE INDEX skips_by_reviewer ON skips (reviewer, skipped_at);
