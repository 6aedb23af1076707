-- Following notices up: the late view reads the notices waiting for a platform by due
-- time (a platform's figures use 0010's index by platform and sending time); a late notice is reminded
-- (counted), a refusal can be contested with the helpline's reason, and the platform's
-- decision on an appeal against its action (Coop's appeal callback) is kept.
CREATE INDEX notices_open_due ON notices(due_at, id) WHERE state IN ('sent', 'acknowledged', 'escalated');
CREATE INDEX notices_updated_id ON notices(updated_at, id);
ALTER TABLE notices ADD COLUMN reminders BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notices ADD COLUMN contest_reason TEXT;
ALTER TABLE notices ADD COLUMN appeal TEXT;
ALTER TABLE notices ADD COLUMN appeal_at BIGINT;
