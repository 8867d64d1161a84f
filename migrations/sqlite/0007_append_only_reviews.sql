-- Reviews are append-only revisions: nothing rewrites or removes one, not even someone with
-- the database file.
CREATE TRIGGER reviews_no_update BEFORE UPDATE ON reviews
BEGIN
    SELECT RAISE(ABORT, 'reviews are append-only: save a new revision instead');
END;
CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews
BEGIN
    SELECT RAISE(ABORT, 'reviews are append-only: save a new revision instead');
END;
