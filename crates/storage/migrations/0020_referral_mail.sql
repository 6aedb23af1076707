-- A referral sent by e-mail from the helpline: the mail's exact bytes (rendered once, sent
-- as they are on every attempt — URLs and fingerprints, never an image or a file), where it
-- stands (queued, sent, failed), its Message-ID, the attempts and the last error, and when
-- the SMTP server took it. The delivery is a job written with the transmission.
ALTER TABLE referrals ADD COLUMN mail TEXT;
ALTER TABLE referrals ADD COLUMN mail_state TEXT;
ALTER TABLE referrals ADD COLUMN mail_message_id TEXT;
ALTER TABLE referrals ADD COLUMN mail_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE referrals ADD COLUMN mail_error TEXT;
ALTER TABLE referrals ADD COLUMN mail_sent_at BIGINT;
