-- A counsellor's notices from an index: each notice carries its case's team, filled on
-- insert and kept in step by triggers, so the notices of a team are read in the order of a
-- page (by change, or the open ones by due time) and the page stops early.
ALTER TABLE notices ADD COLUMN team TEXT;
UPDATE notices n SET team = c.team FROM cases c WHERE c.id = n.case_id;
CREATE INDEX notices_team_updated ON notices(team, updated_at, id);
CREATE INDEX notices_team_open_due ON notices(team, due_at, id) WHERE state IN ('sent', 'acknowledged', 'escalated');
CREATE FUNCTION rempart_notices_team_fill() RETURNS trigger AS $$ BEGIN NEW.team := (SELECT team FROM cases WHERE id = NEW.case_id); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER notices_team_fill BEFORE INSERT ON notices FOR EACH ROW EXECUTE FUNCTION rempart_notices_team_fill();
CREATE FUNCTION rempart_notices_team_follow() RETURNS trigger AS $$ BEGIN UPDATE notices SET team = NEW.team WHERE case_id = NEW.id; RETURN NULL; END $$ LANGUAGE plpgsql;
CREATE TRIGGER notices_team_follow AFTER UPDATE OF team ON cases FOR EACH ROW EXECUTE FUNCTION rempart_notices_team_follow();
-- Each assignment carries its case's team too: a counsellor's cases outside its team are
-- read from the index of its assignments alone.
ALTER TABLE case_assignees ADD COLUMN case_team TEXT;
UPDATE case_assignees a SET case_team = c.team FROM cases c WHERE c.id = a.case_id;
CREATE INDEX case_assignees_staff_team ON case_assignees(staff_id, case_team, case_id);
CREATE FUNCTION rempart_assignees_team_fill() RETURNS trigger AS $$ BEGIN NEW.case_team := (SELECT team FROM cases WHERE id = NEW.case_id); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_assignees_team_fill BEFORE INSERT ON case_assignees FOR EACH ROW EXECUTE FUNCTION rempart_assignees_team_fill();
CREATE FUNCTION rempart_assignees_team_follow() RETURNS trigger AS $$ BEGIN UPDATE case_assignees SET case_team = NEW.team WHERE case_id = NEW.id; RETURN NULL; END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_assignees_team_follow AFTER UPDATE OF team ON cases FOR EACH ROW EXECUTE FUNCTION rempart_assignees_team_follow();
