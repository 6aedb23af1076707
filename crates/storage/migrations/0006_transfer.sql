-- A conversation handed over to a role (e.g. a lawyer) waits for someone with that role.
ALTER TABLE conversations ADD COLUMN required_role TEXT
