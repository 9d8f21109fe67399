-- Names are unique among public channels only: a private channel's name, refused because
-- another private channel had it, told an outsider that channel existed.
DROP INDEX channels_name;
CREATE UNIQUE INDEX channels_name ON channels (name) WHERE kind = 'public';
