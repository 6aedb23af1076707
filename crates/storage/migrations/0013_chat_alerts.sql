-- A counsellor's choice of a sound and a tab-title change when a conversation arrives or
-- becomes urgent (off until they turn it on).
ALTER TABLE staff ADD COLUMN chat_alerts BIGINT NOT NULL DEFAULT 0;
