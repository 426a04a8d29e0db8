-- Podcasting 2.0: what an item's podcast: tags say, and the documents they link to.

-- The item's tags as JSON (season, transcripts, chapters, persons, soundbites); NULL when it has none.
ALTER TABLE episodes ADD COLUMN podcast_tags TEXT;
-- The transcript worth indexing (the richest format offered) and the chapters file, if any: what the
-- document fetcher keeps episode_documents in step with.
ALTER TABLE episodes ADD COLUMN transcript_url TEXT;
ALTER TABLE episodes ADD COLUMN chapters_url TEXT;

-- One row per linked document an episode has: fetched in the background, retried with back-off, and
-- fetched again only when its URL changes.
CREATE TABLE episode_documents (
    episode_id      INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('transcript', 'chapters')),
    url             TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fetched', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                 -- NULL: due now
    last_error      TEXT,                 -- why the last attempt failed, in a few words
    fetched_at      TEXT,
    PRIMARY KEY (episode_id, kind)
);
CREATE INDEX episode_documents_due ON episode_documents (status, next_attempt_at);

CREATE TABLE chapters (
    episode_id    INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    start_seconds REAL NOT NULL,
    title         TEXT NOT NULL,
    url           TEXT,
    PRIMARY KEY (episode_id, position)
);

-- Passages of transcripts (about 45 s each), searched apart from the episodes: a long transcript
-- never weighs on ordinary episode search.
CREATE TABLE transcript_moments (
    id            INTEGER PRIMARY KEY,
    episode_id    INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    start_seconds REAL,                   -- NULL: the transcript has no times (plain text)
    text          TEXT NOT NULL
);
CREATE INDEX transcript_moments_by_episode ON transcript_moments (episode_id);

CREATE VIRTUAL TABLE transcript_moments_fts USING fts5 (
    text,
    content = 'transcript_moments',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER transcript_moments_fts_after_insert AFTER INSERT ON transcript_moments BEGIN
    INSERT INTO transcript_moments_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER transcript_moments_fts_after_delete AFTER DELETE ON transcript_moments BEGIN
    INSERT INTO transcript_moments_fts (transcript_moments_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- Discussion threads (announcement threads and /discuss threads alike) that got their episode's
-- chapters: each gets them once.
CREATE TABLE chapter_posts (
    thread_id  INTEGER PRIMARY KEY,
    episode_id INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    posted_at  TEXT NOT NULL
);
