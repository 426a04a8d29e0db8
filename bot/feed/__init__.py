"""Feeds: fetch over HTTP (fetch), parse into Episodes (parse), in a worker process (isolation)."""
