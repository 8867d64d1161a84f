-- Rollups for trends and routing (issue 13), kept in the same transaction as every ingest and
-- review save and rebuilt from calls and reviews by `redline rollups rebuild`.
--
-- A call is *sampled* once a review of it was saved from a random draw of the review queue
-- (any revision): the draw, not the later label, decides whether the call is in the random
-- sample; its verdict is always that of its current revision.
ALTER TABLE calls ADD COLUMN sampled INTEGER NOT NULL DEFAULT 0;
UPDATE calls SET sampled = 1 WHERE seq IN (SELECT call_seq FROM reviews WHERE sampled = 1);

-- Calls per operation x model version x UTC day of created_at x current verdict x sampled.
DROP TABLE call_counts;
CREATE TABLE call_counts (
    operation_id INTEGER NOT NULL,
    model_id     INTEGER NOT NULL,
    day          INTEGER NOT NULL,           -- days since the Unix epoch
    verdict      INTEGER NOT NULL,
    sampled      INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (operation_id, model_id, day, verdict, sampled)
) WITHOUT ROWID;
INSERT INTO call_counts (operation_id, model_id, day, verdict, sampled, n)
SELECT operation_id, model_id, created_at / 86400000000, verdict, sampled, count(*)
FROM calls GROUP BY 1, 2, 3, 4, 5;

-- Incorrect calls carrying each failure tag (their current review's), same keys.
CREATE TABLE tag_counts (
    operation_id INTEGER NOT NULL,
    model_id     INTEGER NOT NULL,
    day          INTEGER NOT NULL,
    sampled      INTEGER NOT NULL,
    tag_id       INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (operation_id, model_id, day, sampled, tag_id)
) WITHOUT ROWID;
INSERT INTO tag_counts (operation_id, model_id, day, sampled, tag_id, n)
SELECT c.operation_id, c.model_id, c.created_at / 86400000000, c.sampled, ct.tag_id, count(*)
FROM call_tags ct JOIN calls c ON c.seq = ct.call_seq
WHERE c.verdict = 2 GROUP BY 1, 2, 3, 4, 5;

-- Cost (in nano-dollars, so sums are exact) and latency per operation x model version x day,
-- with how many calls reported each.
CREATE TABLE call_costs (
    operation_id INTEGER NOT NULL,
    model_id     INTEGER NOT NULL,
    day          INTEGER NOT NULL,
    calls        INTEGER NOT NULL,
    cost_nanos   INTEGER NOT NULL,
    costed       INTEGER NOT NULL,
    latency_ms   INTEGER NOT NULL,
    timed        INTEGER NOT NULL,
    PRIMARY KEY (operation_id, model_id, day)
) WITHOUT ROWID;
INSERT INTO call_costs (operation_id, model_id, day, calls, cost_nanos, costed, latency_ms, timed)
SELECT operation_id, model_id, created_at / 86400000000, count(*),
       coalesce(sum(CAST(round(cost_usd * 1000000000) AS INTEGER)), 0), count(cost_usd),
       coalesce(sum(latency_ms), 0), count(latency_ms)
FROM calls GROUP BY 1, 2, 3;
