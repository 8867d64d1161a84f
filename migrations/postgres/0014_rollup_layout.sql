-- The rollups are small (a row per operation x version x day x cell) but every ingest batch and
-- review save rewrites some of their rows. PostgreSQL writes each update as a new tuple; on
-- full pages the new tuple goes elsewhere and the dead one waits for autovacuum, so after a
-- busy day the tables were several times their live size (65k live rows of call_counts in
-- 19 MB after a 1M-call fill) and every trends query read all of it.
--
-- Half-empty pages let an update of `n` (which no index holds) stay on its page as a
-- heap-only tuple, pruned in place without vacuum; autovacuum looks at the tables sooner.
-- The overview and routing read every operation over a window of days, and an operation's
-- page one operation over a window: the primary keys lead with the operation and then the
-- model, so neither read could narrow by day. Two indexes each, (day, operation) and
-- (operation, day); the planner takes the first for the overview and the second for one
-- operation (read with EXPLAIN on a 1M-call fill). CLUSTER rewrites each table once, in day
-- order, with the new fill factor.
ALTER TABLE call_counts SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE call_costs SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE tag_counts SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);

CREATE INDEX call_counts_by_day ON call_counts (day, operation_id);
CREATE INDEX call_counts_by_operation_day ON call_counts (operation_id, day);
CREATE INDEX call_costs_by_day ON call_costs (day, operation_id);
CREATE INDEX call_costs_by_operation_day ON call_costs (operation_id, day);

CLUSTER call_counts USING call_counts_by_day;
CLUSTER call_costs USING call_costs_by_day;
CLUSTER tag_counts USING tag_counts_pkey;
ANALYZE call_counts;
ANALYZE call_costs;
ANALYZE tag_counts;
