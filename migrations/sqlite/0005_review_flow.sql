-- The review queue and the feed's reviewer filter.

-- A random key per call, fixed at insert: the queue draws the first unreviewed call at or
-- after a random point in this order, a seek in the partial indexes below instead of a scan.
-- The key says nothing about the call, so every unreviewed call is as likely to be drawn as
-- any other whatever its content (see docs/decisions.md).
ALTER TABLE calls ADD COLUMN sample_key INTEGER NOT NULL DEFAULT 0;
UPDATE calls SET sample_key = abs(random() % 2147483648);
CREATE INDEX calls_draw ON calls (sample_key) WHERE verdict = 0;
CREATE INDEX calls_draw_by_operation ON calls (operation_id, sample_key) WHERE verdict = 0;

-- The feed filtered by who reviewed.
CREATE INDEX calls_by_reviewer ON calls (reviewer, created_at, seq) WHERE reviewer IS NOT NULL;

-- Everyone who ever saved a review: the reviewer filter's choices without a scan.
CREATE TABLE reviewers (
    name TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;
INSERT INTO reviewers (name) SELECT DISTINCT reviewer FROM reviews;
