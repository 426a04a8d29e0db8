-- Feeds (fetch state), episodes (the catalogue) and the full-text index over episodes.

CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT NOT NULL UNIQUE,
    title                TEXT,
    image                TEXT,              -- the show's cover, used on episode cards
    etag                 TEXT,
    last_modified        TEXT,
    body_hash            TEXT,
    last_checked_at      TEXT,
    last_success_at      TEXT,
    last_error           TEXT,
    last_error_at        TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at      TEXT
);

-- One podcast: an episode is identified by its guid alone, not by the feed URL it came from,
-- so a feed that moves does not turn its back catalogue into new episodes.
CREATE TABLE episodes (
    id               INTEGER PRIMARY KEY,
    guid             TEXT NOT NULL UNIQUE,
    number           INTEGER,
    title            TEXT NOT NULL,
    published_at     TEXT,              -- ISO 8601, UTC, 'YYYY-MM-DDTHH:MM:SSZ'
    duration_seconds INTEGER,
    audio_url        TEXT,
    link             TEXT,
    description      TEXT NOT NULL DEFAULT '',
    image            TEXT,
    rebroadcast      INTEGER NOT NULL DEFAULT 0 CHECK (rebroadcast IN (0, 1)),
    first_seen_at    TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE INDEX episodes_by_published ON episodes (published_at DESC, id DESC);
CREATE INDEX episodes_by_number ON episodes (number);
CREATE INDEX episodes_by_audio_url ON episodes (audio_url);

CREATE VIRTUAL TABLE episodes_fts USING fts5 (
    title,
    description,
    content = 'episodes',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER episodes_fts_after_insert AFTER INSERT ON episodes BEGIN
    INSERT INTO episodes_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;

CREATE TRIGGER episodes_fts_after_delete AFTER DELETE ON episodes BEGIN
    INSERT INTO episodes_fts (episodes_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
END;

CREATE TRIGGER episodes_fts_after_update AFTER UPDATE OF title, description ON episodes BEGIN
    INSERT INTO episodes_fts (episodes_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO episodes_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;
