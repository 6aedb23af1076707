-- Notices to platforms: one per platform and case, about that platform's items. `payload`
-- keeps the exact bytes that left (or will leave) on the channel; `channel_index` is the
-- platform's channel in use (a fallback moves it on). Times in ms; `due_at` is when the
-- platform's expected delay runs out.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL REFERENCES cases(id),
    platform TEXT NOT NULL,
    category TEXT NOT NULL,
    lang TEXT NOT NULL,
    state TEXT NOT NULL,
    explanation TEXT NOT NULL,
    sexual_images_of_minor BIGINT NOT NULL DEFAULT 0,
    needs_validation BIGINT NOT NULL DEFAULT 0,
    prepared_by TEXT,
    validated_by TEXT,
    channel_index BIGINT NOT NULL DEFAULT 0,
    channel TEXT,
    payload TEXT,
    ticket TEXT,
    decision TEXT,
    decision_source TEXT,
    decision_note TEXT,
    last_error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    expected_hours BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT,
    delivered_at BIGINT,
    acknowledged_at BIGINT,
    decided_at BIGINT,
    removed_at BIGINT,
    due_at BIGINT,
    escalated_at BIGINT
);
CREATE INDEX notices_case ON notices(case_id, created_at);
CREATE INDEX notices_state_due ON notices(state, due_at);
CREATE INDEX notices_platform ON notices(platform, state);
CREATE INDEX notices_updated ON notices(updated_at);

CREATE TABLE notice_items (
    notice_id TEXT NOT NULL REFERENCES notices(id),
    item_id TEXT NOT NULL REFERENCES items(id),
    position BIGINT NOT NULL,
    PRIMARY KEY (notice_id, item_id)
);
CREATE INDEX notice_items_item ON notice_items(item_id);
