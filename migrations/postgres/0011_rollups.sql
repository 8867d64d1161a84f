-- Rollups for trends and routing (issue 13), kept in the same transaction as every ingest and
-- review save and rebuilt from calls and reviews by `redline rollups rebuild`.
--
-- A call is *sampled* once a review of it was saved from a random draw of the review queue
-- (any revision): the draw, not the later label, decides whether the call is in the random
-- sample; its verdict is always that of its current revision.
ALTER TABLE calls ADD COLUMN sampled BOOLEAN NOT NULL DEFAULT false;
UPDATE calls SET sampled = true WHERE seq IN (SELECT call_seq FROM reviews WHERE sampled);

-- Calls per operation x model version x UTC day of created_at x current verdict x sampled.
DROP TABLE call_counts;
CREATE TABLE call_counts (
    operation_id BIGINT  NOT NULL,
    model_id     BIGINT  NOT NULL,
    day          BIGINT  NOT NULL,           -- days since the Unix epoch
    verdict      BIGINT  NOT NULL,
    sampled      BOOLEAN NOT NULL,
    n            BIGINT  NOT NULL,
    PRIMARY KEY (operation_id, model_id, day, verdict, sampled)
);
INSERT INTO call_counts (operation_id, model_id, day, verdict, sampled, n)
SELECT operation_id, model_id, created_at / 86400000000, verdict, sampled, CAST(count(*) AS BIGINT)
FROM calls GROUP BY 1, 2, 3, 4, 5;

-- Incorrect calls carrying each failure tag (their current review's), same keys.
CREATE TABLE tag_counts (
    operation_id BIGINT  NOT NULL,
    model_id     BIGINT  NOT NULL,
    day          BIGINT  NOT NULL,
    sampled      BOOLEAN NOT NULL,
    tag_id       BIGINT  NOT NULL,
    n            BIGINT  NOT NULL,
    PRIMARY KEY (operation_id, model_id, day, sampled, tag_id)
);
INSERT INTO tag_counts (operation_id, model_id, day, sampled, tag_id, n)
SELECT c.operation_id, c.model_id, c.created_at / 86400000000, c.sampled, ct.tag_id, CAST(count(*) AS BIGINT)
FROM call_tags ct JOIN calls c ON c.seq = ct.call_seq
WHERE c.verdict = 2 GROUP BY 1, 2, 3, 4, 5;

-- Cost (in nano-dollars, so sums are exact) and latency per operation x model version x day,
-- with how many calls reported each.
CREATE TABLE call_costs (
    operation_id BIGINT  NOT NULL,
    model_id     BIGINT  NOT NULL,
    day          BIGINT  NOT NULL,
    calls        BIGINT  NOT NULL,
    cost_nanos   BIGINT  NOT NULL,
    costed       BIGINT  NOT NULL,
    latency_ms   BIGINT  NOT NULL,
    timed        BIGINT  NOT NULL,
    PRIMARY KEY (operation_id, model_id, day)
);
INSERT INTO call_costs (operation_id, model_id, day, calls, cost_nanos, costed, latency_ms, timed)
SELECT operation_id, model_id, created_at / 86400000000, CAST(count(*) AS BIGINT),
       coalesce(sum(CAST(round(cost_usd * 1000000000) AS BIGINT)), 0), count(cost_usd),
       coalesce(sum(latency_ms), 0), count(latency_ms)
FROM calls GROUP BY 1, 2, 3;
