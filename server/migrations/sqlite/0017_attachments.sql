-- Files attached to chat messages: readable by whoever reads the channel; deleting the
-- message deletes them. Same meaning as migrations/postgres/0017_attachments.sql.
ALTER TABLE files ADD COLUMN channel_id INTEGER REFERENCES channels(id);
ALTER TABLE files ADD COLUMN message_id INTEGER REFERENCES messages(id);
CREATE INDEX files_message ON files (message_id);
