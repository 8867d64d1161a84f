-- `day_tallies`: `call_counts` pivoted, one row per operation, model version and UTC day with
-- the four verdict counts the trends pages sum (sampled or all reviews, correct or incorrect)
-- and the day's calls. The accuracy reads summed ~5,400 `call_counts` rows (one per verdict
-- and sampled flag) with a CASE per count for half a year of one operation; here they sum
-- ~1,200 plain columns.
--
-- Kept by triggers on `call_counts`, in the statement that changes it, so every path that
-- writes the counts (ingest, review saves and restores, merges, `redline rollups rebuild`)
-- keeps this table in the same transaction without knowing about it: an insert adds the
-- row's `n`, a delete removes it, an update removes the old row's and adds the new one's.
CREATE TABLE day_tallies (
    operation_id      INTEGER NOT NULL,
    model_id          INTEGER NOT NULL,
    day               INTEGER NOT NULL,
    calls             INTEGER NOT NULL,
    sampled_correct   INTEGER NOT NULL,
    sampled_incorrect INTEGER NOT NULL,
    all_correct       INTEGER NOT NULL,
    all_incorrect     INTEGER NOT NULL,
    PRIMARY KEY (operation_id, model_id, day)
) WITHOUT ROWID;

INSERT INTO day_tallies
SELECT operation_id, model_id, day,
       sum(n),
       sum(CASE WHEN sampled AND verdict = 1 THEN n ELSE 0 END),
       sum(CASE WHEN sampled AND verdict = 2 THEN n ELSE 0 END),
       sum(CASE WHEN verdict = 1 THEN n ELSE 0 END),
       sum(CASE WHEN verdict = 2 THEN n ELSE 0 END)
FROM call_counts WHERE true GROUP BY 1, 2, 3;

CREATE TRIGGER call_counts_insert AFTER INSERT ON call_counts BEGIN
    INSERT INTO day_tallies (operation_id, model_id, day, calls, sampled_correct,
                             sampled_incorrect, all_correct, all_incorrect)
    VALUES (NEW.operation_id, NEW.model_id, NEW.day, NEW.n,
            CASE WHEN NEW.sampled AND NEW.verdict = 1 THEN NEW.n ELSE 0 END,
            CASE WHEN NEW.sampled AND NEW.verdict = 2 THEN NEW.n ELSE 0 END,
            CASE WHEN NEW.verdict = 1 THEN NEW.n ELSE 0 END,
            CASE WHEN NEW.verdict = 2 THEN NEW.n ELSE 0 END)
    ON CONFLICT (operation_id, model_id, day) DO UPDATE SET
        calls = calls + excluded.calls,
        sampled_correct = sampled_correct + excluded.sampled_correct,
        sampled_incorrect = sampled_incorrect + excluded.sampled_incorrect,
        all_correct = all_correct + excluded.all_correct,
        all_incorrect = all_incorrect + excluded.all_incorrect;
END;

CREATE TRIGGER call_counts_delete AFTER DELETE ON call_counts BEGIN
    UPDATE day_tallies SET
        calls = calls - OLD.n,
        sampled_correct = sampled_correct
            - CASE WHEN OLD.sampled AND OLD.verdict = 1 THEN OLD.n ELSE 0 END,
        sampled_incorrect = sampled_incorrect
            - CASE WHEN OLD.sampled AND OLD.verdict = 2 THEN OLD.n ELSE 0 END,
        all_correct = all_correct - CASE WHEN OLD.verdict = 1 THEN OLD.n ELSE 0 END,
        all_incorrect = all_incorrect - CASE WHEN OLD.verdict = 2 THEN OLD.n ELSE 0 END
    WHERE operation_id = OLD.operation_id AND model_id = OLD.model_id AND day = OLD.day;
END;

CREATE TRIGGER call_counts_update AFTER UPDATE ON call_counts BEGIN
    UPDATE day_tallies SET
        calls = calls - OLD.n,
        sampled_correct = sampled_correct
            - CASE WHEN OLD.sampled AND OLD.verdict = 1 THEN OLD.n ELSE 0 END,
        sampled_incorrect = sampled_incorrect
            - CASE WHEN OLD.sampled AND OLD.verdict = 2 THEN OLD.n ELSE 0 END,
        all_correct = all_correct - CASE WHEN OLD.verdict = 1 THEN OLD.n ELSE 0 END,
        all_incorrect = all_incorrect - CASE WHEN OLD.verdict = 2 THEN OLD.n ELSE 0 END
    WHERE operation_id = OLD.operation_id AND model_id = OLD.model_id AND day = OLD.day;
    INSERT INTO day_tallies (operation_id, model_id, day, calls, sampled_correct,
                             sampled_incorrect, all_correct, all_incorrect)
    VALUES (NEW.operation_id, NEW.model_id, NEW.day, NEW.n,
            CASE WHEN NEW.sampled AND NEW.verdict = 1 THEN NEW.n ELSE 0 END,
            CASE WHEN NEW.sampled AND NEW.verdict = 2 THEN NEW.n ELSE 0 END,
            CASE WHEN NEW.verdict = 1 THEN NEW.n ELSE 0 END,
            CASE WHEN NEW.verdict = 2 THEN NEW.n ELSE 0 END)
    ON CONFLICT (operation_id, model_id, day) DO UPDATE SET
        calls = calls + excluded.calls,
        sampled_correct = sampled_correct + excluded.sampled_correct,
        sampled_incorrect = sampled_incorrect + excluded.sampled_incorrect,
        all_correct = all_correct + excluded.all_correct,
        all_incorrect = all_incorrect + excluded.all_incorrect;
END;
