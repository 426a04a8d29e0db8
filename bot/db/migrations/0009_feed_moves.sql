-- A feed that moved (a permanent redirect, or itunes:new-feed-url) names where it went; the bot
-- follows from the configured URL on, and episodes keep their identity (they are keyed by guid).
ALTER TABLE feeds ADD COLUMN moved_to TEXT;
ALTER TABLE feeds ADD COLUMN moved_at TEXT;
ALTER TABLE feeds ADD COLUMN moved_because TEXT;

-- The newest episode an ingest of this feed stored and completed (announcements queued): episodes
-- stored after it, by an ingest that crashed or was cut short, are still news for the next one.
-- Episode ids only grow (episodes are never deleted), so one number is the whole watermark.
ALTER TABLE feeds ADD COLUMN settled_episode_id INTEGER;
UPDATE feeds SET settled_episode_id = (SELECT max(id) FROM episodes) WHERE last_success_at IS NOT NULL;
