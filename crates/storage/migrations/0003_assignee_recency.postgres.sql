-- A counsellor's own cases, newest first, straight from an index: each assignment row
-- carries its case's updated_at, kept in step by triggers.
ALTER TABLE case_assignees ADD COLUMN case_updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE case_assignees a SET case_updated_at = c.updated_at FROM cases c WHERE c.id = a.case_id;
CREATE INDEX case_assignees_staff_recent ON case_assignees(staff_id, case_updated_at, case_id);
CREATE FUNCTION rempart_assignees_follow() RETURNS trigger AS $$ BEGIN UPDATE case_assignees SET case_updated_at = NEW.updated_at WHERE case_id = NEW.id; RETURN NULL; END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_assignees_follow AFTER UPDATE OF updated_at ON cases FOR EACH ROW EXECUTE FUNCTION rempart_assignees_follow();
CREATE FUNCTION rempart_assignees_fill() RETURNS trigger AS $$ BEGIN NEW.case_updated_at := (SELECT updated_at FROM cases WHERE id = NEW.case_id); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_assignees_fill BEFORE INSERT ON case_assignees FOR EACH ROW EXECUTE FUNCTION rempart_assignees_fill();
