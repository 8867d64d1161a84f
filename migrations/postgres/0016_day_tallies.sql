-- `day_tallies`: `call_counts` pivoted, one row per operation, model version and UTC day with
-- the four verdict counts the trends pages sum (sampled or all reviews, correct or incorrect)
-- and the day's calls. The accuracy reads summed ~5,400 `call_counts` rows (one per verdict
-- and sampled flag) with a CASE per count for half a year of one operation; here they sum
-- ~1,200 plain columns.
--
-- Kept by a trigger on `call_counts`, in the statement that changes it, so every path that
-- writes the counts (ingest, review saves and restores, merges, `redline rollups rebuild`)
-- keeps this table in the same transaction without knowing about it. A change of `n` adds
-- the difference; an insert or delete adds or removes the row's whole `n`.
CREATE TABLE day_tallies (
    operation_id      BIGINT NOT NULL,
    model_id          BIGINT NOT NULL,
    day               BIGINT NOT NULL,
    calls             BIGINT NOT NULL,
    sampled_correct   BIGINT NOT NULL,
    sampled_incorrect BIGINT NOT NULL,
    all_correct       BIGINT NOT NULL,
    all_incorrect     BIGINT NOT NULL,
    PRIMARY KEY (operation_id, model_id, day)
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);

INSERT INTO day_tallies
SELECT operation_id, model_id, day,
       sum(n),
       sum(CASE WHEN sampled AND verdict = 1 THEN n ELSE 0 END),
       sum(CASE WHEN sampled AND verdict = 2 THEN n ELSE 0 END),
       sum(CASE WHEN verdict = 1 THEN n ELSE 0 END),
       sum(CASE WHEN verdict = 2 THEN n ELSE 0 END)
FROM call_counts GROUP BY 1, 2, 3;

-- As 0015 for `call_counts`: index-only reads for every operation over days (overview,
-- routing) and for one operation over days (its page).
CREATE INDEX day_tallies_by_day ON day_tallies (day, operation_id)
    INCLUDE (model_id, calls, sampled_correct, sampled_incorrect, all_correct, all_incorrect);
CREATE INDEX day_tallies_by_operation_day ON day_tallies (operation_id, day)
    INCLUDE (model_id, calls, sampled_correct, sampled_incorrect, all_correct, all_incorrect);

CREATE FUNCTION day_tallies_add(operation BIGINT, model BIGINT, d BIGINT, verdict BIGINT,
                                sampled BOOLEAN, n BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO day_tallies AS t
        (operation_id, model_id, day, calls, sampled_correct, sampled_incorrect, all_correct,
         all_incorrect)
    VALUES (operation, model, d, n,
            CASE WHEN sampled AND verdict = 1 THEN n ELSE 0 END,
            CASE WHEN sampled AND verdict = 2 THEN n ELSE 0 END,
            CASE WHEN verdict = 1 THEN n ELSE 0 END,
            CASE WHEN verdict = 2 THEN n ELSE 0 END)
    ON CONFLICT (operation_id, model_id, day) DO UPDATE SET
        calls = t.calls + excluded.calls,
        sampled_correct = t.sampled_correct + excluded.sampled_correct,
        sampled_incorrect = t.sampled_incorrect + excluded.sampled_incorrect,
        all_correct = t.all_correct + excluded.all_correct,
        all_incorrect = t.all_incorrect + excluded.all_incorrect
$$;

CREATE FUNCTION day_tallies_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.operation_id = NEW.operation_id AND OLD.model_id = NEW.model_id
       AND OLD.day = NEW.day AND OLD.verdict = NEW.verdict AND OLD.sampled = NEW.sampled THEN
        IF NEW.n <> OLD.n THEN
            PERFORM day_tallies_add(NEW.operation_id, NEW.model_id, NEW.day, NEW.verdict,
                                    NEW.sampled, NEW.n - OLD.n);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM day_tallies_add(OLD.operation_id, OLD.model_id, OLD.day, OLD.verdict,
                                OLD.sampled, -OLD.n);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM day_tallies_add(NEW.operation_id, NEW.model_id, NEW.day, NEW.verdict,
                                NEW.sampled, NEW.n);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER call_counts_follow AFTER INSERT OR UPDATE OR DELETE ON call_counts
    FOR EACH ROW EXECUTE FUNCTION day_tallies_follow();

ANALYZE day_tallies;
