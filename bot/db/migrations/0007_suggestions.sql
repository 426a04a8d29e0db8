-- Listener suggestions for future episodes, their votes, and where each server shows them.

CREATE TABLE suggestion_settings (
    guild_id   INTEGER PRIMARY KEY,
    channel_id INTEGER,                  -- NULL: cards are only shown privately to their author
    updated_at TEXT NOT NULL
);

CREATE TABLE suggestions (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    number         INTEGER NOT NULL,     -- what members see (#12): counted per server
    author_id      INTEGER NOT NULL,
    topic          TEXT NOT NULL,
    details        TEXT,
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'planned', 'done', 'declined')),
    status_reason  TEXT,
    -- The episode that covered a done suggestion, by number: it may not be published yet, and is
    -- matched when an episode with this number is announced.
    episode_number INTEGER,
    channel_id     INTEGER,              -- where its card was posted; NULL if it was shown privately
    message_id     INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    notified_at    TEXT,                 -- its suggester and voters were told the episode is out
    UNIQUE (guild_id, number)
);

-- The rate limit counts a member's recent suggestions; rows are kept, so a restart does not reset it.
CREATE INDEX suggestions_by_author ON suggestions (guild_id, author_id, created_at);
CREATE INDEX suggestions_by_status ON suggestions (guild_id, status, created_at);

-- The primary key is the one-vote-per-member rule.
CREATE TABLE suggestion_votes (
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    voted_at      TEXT NOT NULL,
    PRIMARY KEY (suggestion_id, user_id)
) WITHOUT ROWID;
