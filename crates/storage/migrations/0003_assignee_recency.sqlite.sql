-- A counsellor's own cases, newest first, straight from an index: each assignment row
-- carries its case's updated_at, kept in step by triggers.
ALTER TABLE case_assignees ADD COLUMN case_updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE case_assignees SET case_updated_at = (SELECT updated_at FROM cases WHERE cases.id = case_assignees.case_id);
CREATE INDEX case_assignees_staff_recent ON case_assignees(staff_id, case_updated_at, case_id);

CREATE TRIGGER case_assignees_follow AFTER UPDATE OF updated_at ON cases BEGIN
  UPDATE case_assignees SET case_updated_at = new.updated_at WHERE case_id = new.id;
END;

CREATE TRIGGER case_assignees_fill AFTER INSERT ON case_assignees BEGIN
  UPDATE case_assignees SET case_updated_at = (SELECT updated_at FROM cases WHERE id = new.case_id)
    WHERE case_id = new.case_id AND staff_id = new.staff_id;
END;
