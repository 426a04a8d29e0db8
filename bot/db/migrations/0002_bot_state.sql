-- Small facts the bot keeps about itself, such as the hash of the last synced command tree.
CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
