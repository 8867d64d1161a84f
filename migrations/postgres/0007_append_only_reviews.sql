-- Reviews are append-only revisions: nothing rewrites or removes one, not even someone with
-- the database URL. TRUNCATE fires no row or UPDATE/DELETE trigger, so it is refused for
-- reviews and the audit log by a trigger of its own.
CREATE FUNCTION reviews_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'reviews are append-only: save a new revision instead';
END;
$$;
CREATE TRIGGER reviews_no_change BEFORE UPDATE OR DELETE ON reviews
    FOR EACH STATEMENT EXECUTE FUNCTION reviews_append_only();
CREATE TRIGGER reviews_no_truncate BEFORE TRUNCATE ON reviews
    FOR EACH STATEMENT EXECUTE FUNCTION reviews_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
