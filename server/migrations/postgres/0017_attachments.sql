-- Files attached to chat messages: readable by whoever reads the channel; deleting the
-- message deletes them. Same meaning as migrations/sqlite/0017_attachments.sql.
ALTER TABLE files ADD COLUMN channel_id BIGINT REFERENCES channels(id);
ALTER TABLE files ADD COLUMN message_id BIGINT REFERENCES messages(id);
CREATE INDEX files_message ON files (message_id);
