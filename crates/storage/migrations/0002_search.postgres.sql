-- Substring search over cases without a full scan: a trigram GIN index (pg_trgm, a
-- trusted extension) serves search_text LIKE '%…%'.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cases_search_trgm ON cases USING gin (search_text gin_trgm_ops);
