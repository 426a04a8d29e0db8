-- Announcements that survive real Discord: what an unanswered attempt may have done, forum tags,
-- why a server is paused, and moderator alerts.

-- The time of the first attempt: retries of transient failures go on for days from it, and an
-- attempt whose outcome is unknown (a crash, a lost response) is looked for in the channel from it on.
ALTER TABLE announcements ADD COLUMN first_attempt_at TEXT;
-- 1 while the last attempt may have posted without the bot hearing of it: the next attempt looks
-- for the bot's own message before sending again (Discord forgets nonces after a few minutes).
ALTER TABLE announcements ADD COLUMN outcome_unknown INTEGER NOT NULL DEFAULT 0
    CHECK (outcome_unknown IN (0, 1));
-- Rows that predate this migration and were left mid-send count as attempted now.
UPDATE announcements SET first_attempt_at = created_at, outcome_unknown = 1
WHERE status = 'pending' AND attempts > 0;

-- A forum that requires a tag on each post: the tag announcements carry.
ALTER TABLE guild_settings ADD COLUMN forum_tag_id INTEGER;
-- What kind of pause paused_reason describes: 'permissions' lifts itself when the permissions are
-- fixed; the others ('channel', 'automod', 'tag') wait for a moderator.
ALTER TABLE guild_settings ADD COLUMN paused_kind TEXT;
UPDATE guild_settings SET paused_kind = 'permissions' WHERE paused_reason IS NOT NULL;
-- Where the bot tells the moderators about incidents (optional).
ALTER TABLE guild_settings ADD COLUMN alerts_channel_id INTEGER;

-- The feed has been failing since this time (NULL while it works): alerts wait for hours, not a blip.
ALTER TABLE feeds ADD COLUMN failing_since TEXT;

-- Incidents the moderators were told about, so each is told once, and its end once.
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT NOT NULL,            -- 'feed', 'paused', 'given_up'
    subject     TEXT NOT NULL DEFAULT '', -- what it is about within its kind (an announcement id)
    opened_at   TEXT NOT NULL,
    resolved_at TEXT,
    detail      TEXT NOT NULL
);

-- At most one open incident per server, kind and subject.
CREATE UNIQUE INDEX incidents_open ON incidents (guild_id, kind, subject) WHERE resolved_at IS NULL;
