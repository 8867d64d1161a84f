-- Search documents hold every word twice: as itself and qualified by the call's operation
-- (`<operation id>~word`), so a search within one operation reads one short list from the GIN
-- index. The operation's scope lexeme `rlop<id>` is no longer needed. Rewrites existing rows.
UPDATE calls SET search = array_to_tsvector(ARRAY(
    SELECT w FROM unnest(tsvector_to_array(search)) AS w
    WHERE w <> 'rlop' || operation_id
    UNION
    SELECT operation_id || '~' || w FROM unnest(tsvector_to_array(search)) AS w
    WHERE w <> 'rlop' || operation_id AND w <> 'rlmd' || model_id
));
