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

-- Each assignment carries its case's team too: a counsellor's cases outside its team are
-- read from the index of its assignments alone.
ALTER TABLE case_assignees ADD COLUMN case_team TEXT;
UPDATE case_assignees SET case_team = (SELECT team FROM cases WHERE cases.id = case_assignees.case_id);
CREATE INDEX case_assignees_staff_team ON case_assignees(staff_id, case_team, case_id);

CREATE TRIGGER case_assignees_team_fill AFTER INSERT ON case_assignees BEGIN
  UPDATE case_assignees SET case_team = (SELECT team FROM cases WHERE id = new.case_id)
    WHERE case_id = new.case_id AND staff_id = new.staff_id;
END;

CREATE TRIGGER case_assignees_team_follow AFTER UPDATE OF team ON cases BEGIN
  UPDATE case_assignees SET case_team = new.team WHERE case_id = new.id;
END;
