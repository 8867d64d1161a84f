-- Search words are split by Redline itself (model::search), now keeping combining marks in
-- their words and indexing unspaced scripts (Chinese, Japanese, Thai) by character pairs.
-- The documents are written again by Redline on its next start (the row in search_rebuild
-- says where it has got to).
CREATE TABLE search_rebuild (after_seq BIGINT NOT NULL);
INSERT INTO search_rebuild (after_seq) SELECT 0 WHERE EXISTS (SELECT 1 FROM calls);
