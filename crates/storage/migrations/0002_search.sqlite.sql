-- Substring search over cases without a full scan: an FTS5 trigram index kept in step
-- with cases.search_text by triggers (external content: the text is stored once).
CREATE VIRTUAL TABLE cases_fts USING fts5(search_text, content='cases', content_rowid='rowid', tokenize='trigram');

CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
  INSERT INTO cases_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
  INSERT INTO cases_fts(cases_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;

CREATE TRIGGER cases_fts_update AFTER UPDATE OF search_text ON cases BEGIN
  INSERT INTO cases_fts(cases_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO cases_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

INSERT INTO cases_fts(cases_fts) VALUES ('rebuild');
