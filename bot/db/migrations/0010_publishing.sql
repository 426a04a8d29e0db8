-- Publishing announcements to the servers that follow an announcement channel (Discord's crosspost).

-- On by default: a server that announces in an announcement channel usually wants its followers
-- to get the episodes too; /config publish turns it off.
ALTER TABLE guild_settings ADD COLUMN publish_enabled INTEGER NOT NULL DEFAULT 1
    CHECK (publish_enabled IN (0, 1));

-- 0 for announcements that must never be published (a moderator's /config announce-latest test).
ALTER TABLE announcements ADD COLUMN publish INTEGER NOT NULL DEFAULT 1 CHECK (publish IN (0, 1));
-- NULL: nothing to publish (not an announcement channel, publishing off, a test); then 'pending'
-- until Discord has crossposted it ('published') or retrying cannot help ('failed').
ALTER TABLE announcements ADD COLUMN publish_status TEXT
    CHECK (publish_status IN ('pending', 'published', 'failed'));
ALTER TABLE announcements ADD COLUMN publish_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE announcements ADD COLUMN publish_next_at TEXT;
ALTER TABLE announcements ADD COLUMN publish_error TEXT;

CREATE INDEX announcements_to_publish ON announcements (publish_status, publish_next_at)
    WHERE publish_status = 'pending';
