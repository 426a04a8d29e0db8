-- Who changed which setting of a server, and when.
CREATE TABLE config_changes (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    user_name  TEXT NOT NULL,
    setting    TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    changed_at TEXT NOT NULL
);

CREATE INDEX config_changes_by_guild ON config_changes (guild_id, id DESC);
