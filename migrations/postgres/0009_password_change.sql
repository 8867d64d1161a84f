-- A generated first password must be replaced at first sign-in: until then the person can
-- reach only the page that changes it.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false;
