-- A message sharing a story as a card names the story, so withdrawing the story finds its
-- cards (they then show it withdrawn).
-- Same meaning as migrations/postgres/0030_card_story.sql.
ALTER TABLE messages ADD COLUMN card_story INTEGER;
CREATE INDEX messages_card_story ON messages (card_story) WHERE card_story IS NOT NULL;
UPDATE messages SET card_story = json_extract(card, '$.story')
WHERE card IS NOT NULL AND json_extract(card, '$.kind') = 'story';
