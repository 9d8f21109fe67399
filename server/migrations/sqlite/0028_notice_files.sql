-- Notices: when the author last sent "Remind" (reminders are spaced: xietong::notices::REMIND_EVERY_MS)
-- Same meaning as migrations/postgres/0028_notice_files.sql.
ALTER TABLE notices ADD COLUMN reminded_at INTEGER;

-- A notice's attachments are files readable by whoever reads the notice.
ALTER TABLE files ADD COLUMN notice_id INTEGER REFERENCES notices(id);
CREATE INDEX files_notice ON files (notice_id);
