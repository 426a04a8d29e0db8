-- Per-server settings and the announcement outbox.

CREATE TABLE guild_settings (
    guild_id              INTEGER PRIMARY KEY,
    announce_channel_id   INTEGER,
    ping_role_id          INTEGER,
    template              TEXT,               -- NULL: the default template
    threads_enabled       INTEGER NOT NULL DEFAULT 0 CHECK (threads_enabled IN (0, 1)),
    notify_button_enabled INTEGER NOT NULL DEFAULT 0 CHECK (notify_button_enabled IN (0, 1)),
    paused_reason         TEXT,               -- set when Discord refuses delivery (403, 404)
    paused_at             TEXT,
    left_at               TEXT,               -- the bot was removed from the server
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

-- One row per (server, episode): the unique constraint makes a double announcement impossible.
CREATE TABLE announcements (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    episode_id      INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL,
    -- 'full': its own message; 'digest': listed in one catch-up message with the others of its batch.
    kind            TEXT NOT NULL DEFAULT 'full' CHECK (kind IN ('full', 'digest')),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    message_id      INTEGER,
    thread_id       INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (guild_id, episode_id)
);

CREATE INDEX announcements_due ON announcements (status, next_attempt_at);
