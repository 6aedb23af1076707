-- Counsellors' chat availability and capacity (how many conversations at once).
ALTER TABLE staff ADD COLUMN chat_available BIGINT NOT NULL DEFAULT 1;
ALTER TABLE staff ADD COLUMN chat_capacity BIGINT NOT NULL DEFAULT 3
