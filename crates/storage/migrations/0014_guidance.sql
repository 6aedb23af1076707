-- Guidance: the ticks of a case's playbook steps (the last state of each step: ticked or
-- unticked, by whom, when; every change is also in the audit trail), and the helpline's
-- playbooks as supervisors edited them — one TOML document per version, NULL for "the
-- embedded defaults" (a version that restores them).
CREATE TABLE playbook_ticks (
  case_id TEXT NOT NULL REFERENCES cases(id),
  playbook TEXT NOT NULL,
  step TEXT NOT NULL,
  done BIGINT NOT NULL,
  changed_by TEXT NOT NULL REFERENCES staff(id),
  changed_at BIGINT NOT NULL,
  PRIMARY KEY (case_id, playbook, step)
);

CREATE TABLE playbook_versions (
  version BIGINT PRIMARY KEY,
  document TEXT,
  edited_by TEXT NOT NULL REFERENCES staff(id),
  edited_at BIGINT NOT NULL
);
