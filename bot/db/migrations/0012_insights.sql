-- What listeners search for and how busy each episode's discussion is, per server, for /insights.
-- Nothing here says who: no user or member id, no message content.

-- A server whose moderators turned insights off: nothing is recorded there (its records are deleted).
CREATE TABLE insights_off (
    guild_id INTEGER PRIMARY KEY,
    since    TEXT NOT NULL
);

-- Submitted searches, their text folded the way search folds it; deleted after the retention time.
CREATE TABLE searches (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    query       TEXT NOT NULL,
    results     INTEGER NOT NULL,        -- how many episodes matched (0: not found)
    searched_at TEXT NOT NULL
);
CREATE INDEX searches_by_guild ON searches (guild_id, searched_at);
CREATE INDEX searches_by_time ON searches (searched_at);

-- Which episodes a search led to: opened from its results (or shown at once as the only match).
CREATE TABLE search_opens (
    search_id  INTEGER NOT NULL REFERENCES searches (id) ON DELETE CASCADE,
    episode_id INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    PRIMARY KEY (search_id, episode_id)
) WITHOUT ROWID;
CREATE INDEX search_opens_by_episode ON search_opens (episode_id);

-- Messages seen in an episode's discussion thread, a count per day (UTC); no author, no content.
CREATE TABLE thread_activity (
    guild_id   INTEGER NOT NULL,
    thread_id  INTEGER NOT NULL,
    episode_id INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    day        TEXT NOT NULL,            -- YYYY-MM-DD
    messages   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, thread_id, day)
) WITHOUT ROWID;
CREATE INDEX thread_activity_by_day ON thread_activity (day);

-- A message in a thread is matched to its episode by the thread's id.
CREATE INDEX announcements_by_thread ON announcements (thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX episode_threads_by_thread ON episode_threads (thread_id);

-- /insights ranks votes cast in a period.
CREATE INDEX suggestion_votes_by_time ON suggestion_votes (voted_at);
-- /privacy finds a member's votes.
CREATE INDEX suggestion_votes_by_user ON suggestion_votes (user_id);
