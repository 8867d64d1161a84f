-- Search words are split by Redline itself (model::search), the same way for documents and
-- queries on both backends: the index gets words separated by spaces and must not split them
-- again. unicode61 broke words at combining marks (Devanagari vowel signs, Arabic harakat),
-- so a search for such a word became a phrase, which detail = none cannot answer (a 500).
-- The ascii tokenizer splits only at ASCII spaces and punctuation and keeps every non-ASCII
-- character in its word. The documents are written again by Redline on its next start
-- (the row in search_rebuild says where it has got to).
DROP TABLE calls_fts;
CREATE VIRTUAL TABLE calls_fts USING fts5 (
    input, output,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'ascii'
);
CREATE TABLE search_rebuild (after_seq INTEGER NOT NULL);
INSERT INTO search_rebuild (after_seq) SELECT 0 WHERE EXISTS (SELECT 1 FROM calls);
