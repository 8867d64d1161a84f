-- Grows a Redline database on PostgreSQL that `redline demo` filled, by copying its calls
-- inside PostgreSQL: the 10M-call benchmark database is the 1M-call demo workload plus nine
-- copies (a demo fill through the app runs at about 3,000 calls/s here: 10M would take an hour).
--
--   psql "$URL" -v copies=9 -f bench/pg-replicate.sql      (URL's search_path: the schema)
--
-- Each copy keeps the text, operation, model, search document and day of its original; its
-- time moves back by up to an hour, its id is new (random, not UUIDv7), its external id gets
-- a suffix, and it is unreviewed (so 0.8% of the result is reviewed instead of 8%). The
-- per-day counters are updated to match, and statistics refreshed.
\set ON_ERROR_STOP on
\timing on

SELECT max(seq) AS last_original FROM calls \gset

SELECT format(
    'INSERT INTO calls (id, operation_id, model_id, created_at, received_at, input, output,
                        latency_ms, input_tokens, output_tokens, cost_usd, metadata, source,
                        external_id, search)
     SELECT gen_random_uuid(), operation_id, model_id,
            created_at - CAST(random() * 3600000000 AS BIGINT), received_at, input, output,
            latency_ms, input_tokens, output_tokens, cost_usd, metadata, source,
            external_id || %L, search
     FROM calls WHERE seq <= %s ORDER BY seq',
    '-copy' || k, :last_original)
FROM generate_series(1, :copies) AS k \gexec

INSERT INTO call_counts (operation_id, model_id, day, verdict, n)
SELECT operation_id, model_id, floor(created_at / 86400000000.0)::BIGINT, 0, count(*)
FROM calls WHERE seq > :last_original
GROUP BY 1, 2, 3
ON CONFLICT (operation_id, model_id, day, verdict) DO UPDATE SET n = call_counts.n + excluded.n;

VACUUM (ANALYZE) calls;
ANALYZE;
SELECT count(*) AS calls FROM calls;
