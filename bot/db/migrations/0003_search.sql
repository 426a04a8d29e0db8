-- Search: guests become a column weighted like the title, the full-text index gains it and a
-- prefix index, a second unstemmed index exposes the raw vocabulary (for typo correction and
-- completion) and a counter tells the search engine when its caches are stale.

-- NULL means "not derived yet": rows that predate this migration get their guests from
-- bot.feed.guests the first time the search engine refreshes (SQL cannot parse a title).
ALTER TABLE episodes ADD COLUMN guests TEXT;
-- Finding those rows is then instant, however large the catalogue (the index holds only them).
CREATE INDEX episodes_without_guests ON episodes (id) WHERE guests IS NULL;

DROP TRIGGER episodes_fts_after_insert;
DROP TRIGGER episodes_fts_after_delete;
DROP TRIGGER episodes_fts_after_update;
DROP TABLE episodes_fts;

CREATE VIRTUAL TABLE episodes_fts USING fts5 (
    title,
    guests,
    description,
    content = 'episodes',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- Same text, not stemmed: its vocabulary holds the words as written (lower case, accents
-- folded). detail = none keeps it small: it only answers "which words, in how many episodes".
CREATE VIRTUAL TABLE episodes_words USING fts5 (
    title,
    guests,
    description,
    content = 'episodes',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    detail = none
);

CREATE VIRTUAL TABLE episodes_words_vocabulary USING fts5vocab (episodes_words, 'row');
CREATE VIRTUAL TABLE episodes_fts_vocabulary USING fts5vocab (episodes_fts, 'row');

CREATE TABLE search_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO search_state (id, generation) VALUES (1, 0);

CREATE TRIGGER episodes_search_after_insert AFTER INSERT ON episodes BEGIN
    INSERT INTO episodes_fts (rowid, title, guests, description)
    VALUES (new.id, new.title, coalesce(new.guests, ''), new.description);
    INSERT INTO episodes_words (rowid, title, guests, description)
    VALUES (new.id, new.title, coalesce(new.guests, ''), new.description);
    UPDATE search_state SET generation = generation + 1;
END;

CREATE TRIGGER episodes_search_after_delete AFTER DELETE ON episodes BEGIN
    INSERT INTO episodes_fts (episodes_fts, rowid, title, guests, description)
    VALUES ('delete', old.id, old.title, coalesce(old.guests, ''), old.description);
    INSERT INTO episodes_words (episodes_words, rowid, title, guests, description)
    VALUES ('delete', old.id, old.title, coalesce(old.guests, ''), old.description);
    UPDATE search_state SET generation = generation + 1;
END;

CREATE TRIGGER episodes_search_after_update_text AFTER UPDATE OF title, guests, description ON episodes
BEGIN
    INSERT INTO episodes_fts (episodes_fts, rowid, title, guests, description)
    VALUES ('delete', old.id, old.title, coalesce(old.guests, ''), old.description);
    INSERT INTO episodes_fts (rowid, title, guests, description)
    VALUES (new.id, new.title, coalesce(new.guests, ''), new.description);
    INSERT INTO episodes_words (episodes_words, rowid, title, guests, description)
    VALUES ('delete', old.id, old.title, coalesce(old.guests, ''), old.description);
    INSERT INTO episodes_words (rowid, title, guests, description)
    VALUES (new.id, new.title, coalesce(new.guests, ''), new.description);
END;

-- Any change (number, date, rebroadcast flag too) can change what the engine caches.
CREATE TRIGGER episodes_search_after_update AFTER UPDATE ON episodes BEGIN
    UPDATE search_state SET generation = generation + 1;
END;

INSERT INTO episodes_fts (episodes_fts) VALUES ('rebuild');
INSERT INTO episodes_words (episodes_words) VALUES ('rebuild');
