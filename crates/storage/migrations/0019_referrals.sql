-- Referrals of a case to an authority or a service (police or gendarmerie complaint help,
-- Pharos, the 119, the school's referent, a lawyer, a victim-support association, the CNIL):
-- the service's code in the directory, where the referral stands, the lawful basis and who
-- gave the consent and for what, what was shared (the evidence ids) with whom and how, the
-- outcome. Every change has its audit event; each transmitted piece of evidence a custody
-- event.
CREATE TABLE referrals (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  service TEXT NOT NULL,
  state TEXT NOT NULL,
  basis TEXT,
  consent_by TEXT,
  consent_scope TEXT,
  consent_at BIGINT,
  recipient TEXT,
  channel TEXT,
  shared TEXT NOT NULL,
  note TEXT,
  outcome TEXT,
  created_by TEXT NOT NULL REFERENCES staff(id),
  created_at BIGINT NOT NULL,
  sent_at BIGINT,
  updated_at BIGINT NOT NULL
);

CREATE INDEX referrals_case ON referrals (case_id, created_at);
