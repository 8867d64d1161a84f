-- The rollups are small (a row per operation x version x day x cell) but every ingest batch and
-- review save rewrites some of their rows. PostgreSQL writes each update as a new tuple; on
-- full pages the new tuple goes elsewhere and the dead one waits for autovacuum, so after a
-- busy day the tables were several times their live size (65k live rows of call_counts in
-- 19 MB after a 1M-call fill) and every trends query read all of it.
--
-- Half-empty pages let an update of `n` (which no index holds) stay on its page as a
-- heap-only tuple, pruned in place without vacuum; autovacuum looks at the tables sooner.
-- The overview and routing read every operation over a window of days, so an index leads
-- with the day (the primary keys lead with the operation). CLUSTER rewrites each table once,
-- in day order, with the new fill factor.
ALTER TABLE call_counts SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE call_costs SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE tag_counts SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);

CREATE INDEX call_counts_by_day ON call_counts (day);
CREATE INDEX call_costs_by_day ON call_costs (day);

CLUSTER call_counts USING call_counts_by_day;
CLUSTER call_costs USING call_costs_by_day;
CLUSTER tag_counts USING tag_counts_pkey;
ANALYZE call_counts;
ANALYZE call_costs;
ANALYZE tag_counts;
