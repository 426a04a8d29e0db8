-- The search engine ranks an in-memory index of its own (bot/search/index.py), stemmed as FTS5's
-- porter tokenizer stems: nothing reads the stemmed full-text table any more, and keeping it up to
-- date was most of the cost of every write to episodes. The unstemmed index stays: its vocabulary
-- is what typo correction and completion read.

DROP TRIGGER episodes_search_after_insert;
DROP TRIGGER episodes_search_after_delete;
DROP TRIGGER episodes_search_after_update_text;
DROP TABLE episodes_fts_vocabulary;
DROP TABLE episodes_fts;

CREATE TRIGGER episodes_search_after_insert AFTER INSERT ON episodes BEGIN
    INSERT INTO episodes_words (rowid, title, guests, description)
    VALUES (new.id, new.title, coalesce(new.guests, ''), new.description);
    UPDATE search_state SET generation = generation + 1;
END;

CREATE TRIGGER episodes_search_after_delete AFTER DELETE ON episodes BEGIN
    INSERT INTO episodes_words (episodes_words, rowid, title, guests, description)
    VALUES ('delete', old.id, old.title, coalesce(old.guests, ''), old.description);
    UPDATE search_state SET generation = generation + 1;
END;

CREATE TRIGGER episodes_search_after_update_text AFTER UPDATE OF title, guests, description ON episodes
BEGIN
    INSERT INTO episodes_words (episodes_words, rowid, title, guests, description)
    VALUES ('delete', old.id, old.title, coalesce(old.guests, ''), old.description);
    INSERT INTO episodes_words (rowid, title, guests, description)
    VALUES (new.id, new.title, coalesce(new.guests, ''), new.description);
END;
