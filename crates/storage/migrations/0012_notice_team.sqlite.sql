-- A counsellor's notices from an index: each notice carries its case's team, filled on
-- insert and kept in step by triggers, so the notices of a team are read in the order of a
-- page (by change, or the open ones by due time) and the page stops early.
ALTER TABLE notices ADD COLUMN team TEXT;
UPDATE notices SET team = (SELECT team FROM cases WHERE cases.id = notices.case_id);
CREATE INDEX notices_team_updated ON notices(team, updated_at, id);
CREATE INDEX notices_team_open_due ON notices(team, due_at, id) WHERE state IN ('sent', 'acknowledged', 'escalated');

CREATE TRIGGER notices_team_fill AFTER INSERT ON notices BEGIN
  UPDATE notices SET team = (SELECT team FROM cases WHERE id = new.case_id) WHERE id = new.id;
END;

CREATE TRIGGER notices_team_follow AFTER UPDATE OF team ON cases BEGIN
  UPDATE notices SET team = new.team WHERE case_id = new.id;
END;
