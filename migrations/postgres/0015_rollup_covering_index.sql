-- The trends pages sum rollup rows over a range of days: the overview and routing every
-- operation's, through (day, operation_id); an operation's page one operation's, through
-- (operation_id, day). The rows lie in the order they were written, so the second read
-- fetched one operation's ~5,000 rows of half a year from ~2,300 heap pages (12 ms of a
-- 1M-call fill's page, on every request), and both read the heap for four small columns.
-- Both indexes now carry the columns the reads sum, so they are index-only scans (EXPLAIN:
-- 14.7 -> 3.0 ms for one operation's two years by week; heap fetches only for pages
-- changed since the last vacuum).
--
-- The cost: `n` is in an index now, so its updates are no longer heap-only tuples (0014's
-- half-empty pages still serve call_costs and tag_counts). Each ingest batch and review save
-- updates a few rows (one per operation, version, day and cell it touches), so that is a
-- few index entries per batch; autovacuum visits the table at 2% dead rows (0014), which
-- also keeps current the visibility map that index-only scans need. docs/decisions.md has
-- the figures.
DROP INDEX call_counts_by_day;
DROP INDEX call_counts_by_operation_day;
CREATE INDEX call_counts_by_day ON call_counts (day, operation_id)
    INCLUDE (model_id, verdict, sampled, n);
CREATE INDEX call_counts_by_operation_day ON call_counts (operation_id, day)
    INCLUDE (model_id, verdict, sampled, n);
ANALYZE call_counts;
