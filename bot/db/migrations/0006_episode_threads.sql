-- Discussion threads opened for episodes with /episode discuss: at most one per server and episode.
CREATE TABLE episode_threads (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    episode_id INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL,          -- where the episode card was posted (a forum for a forum post)
    thread_id  INTEGER NOT NULL,
    created_by INTEGER NOT NULL,          -- the member who asked for it
    created_at TEXT NOT NULL,
    UNIQUE (guild_id, episode_id)
);
