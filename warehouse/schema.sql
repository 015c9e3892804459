-- Base tables of the DuckLake warehouse. DuckLake has no primary keys: the pipeline keeps
-- every write idempotent with anti-joins (see warehouse/store.py).
CREATE TABLE IF NOT EXISTS feed_state (
    feed_url VARCHAR, name VARCHAR, title VARCHAR, etag VARCHAR, last_modified VARCHAR,
    body_hash VARCHAR, last_polled_at TIMESTAMP, last_status VARCHAR, error_count INTEGER,
    last_error VARCHAR, next_poll_at TIMESTAMP, poll_url VARCHAR, redirect_candidate VARCHAR,
    poll_interval_s INTEGER
);
-- Feed scheduling and moved-feed columns, added after the first release; no-ops when present.
ALTER TABLE feed_state ADD COLUMN IF NOT EXISTS poll_url VARCHAR;
ALTER TABLE feed_state ADD COLUMN IF NOT EXISTS redirect_candidate VARCHAR;
ALTER TABLE feed_state ADD COLUMN IF NOT EXISTS poll_interval_s INTEGER;
-- Feeds added with `newsflow feeds import`; `ingest` polls them as well as any --feeds FILE.
CREATE TABLE IF NOT EXISTS subscriptions (
    feed_url VARCHAR, name VARCHAR, added_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS entries (
    entry_key VARCHAR, feed_url VARCHAR, url VARCHAR, guid VARCHAR, title VARCHAR,
    published_at TIMESTAMP, first_seen_at TIMESTAMP, updated_at TIMESTAMP
);
ALTER TABLE entries ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP;
-- An entry's page announced as updated (a newer `updated` stamp in its feed): fetched again, and
-- stored as a new version of the article if its text changed.
CREATE TABLE IF NOT EXISTS entry_updates (url VARCHAR, updated_at TIMESTAMP, seen_at TIMESTAMP);
-- One row per attempt to turn an entry's URL into an article: stored, skipped, failed, retry, or
-- deferred (not contacted because the host asked us to wait; it costs no attempt).
CREATE TABLE IF NOT EXISTS fetch_outcomes (
    url VARCHAR, entry_key VARCHAR, outcome VARCHAR, detail VARCHAR, decided_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS article_rows (
    article_id VARCHAR, url VARCHAR, canonical_url VARCHAR, final_url VARCHAR,
    redirects VARCHAR[], source VARCHAR, domain VARCHAR, title VARCHAR, author VARCHAR,
    published_at TIMESTAMP, fetched_at TIMESTAMP, language VARCHAR, text VARCHAR,
    word_count INTEGER, content_hash VARCHAR, syndicated_from VARCHAR, feed_url VARCHAR,
    story_id VARCHAR, story_reason VARCHAR, story_similarity DOUBLE, story_matched_article_id VARCHAR,
    signature BLOB, n_shingles INTEGER, version INTEGER, seq BIGINT
);
-- Columns added after the first release; a no-op on lakes that have them.
ALTER TABLE article_rows ADD COLUMN IF NOT EXISTS n_shingles INTEGER;
ALTER TABLE article_rows ADD COLUMN IF NOT EXISTS version INTEGER;
ALTER TABLE article_rows ADD COLUMN IF NOT EXISTS seq BIGINT;
ALTER TABLE article_rows ADD COLUMN IF NOT EXISTS syndicated_link VARCHAR;
CREATE TABLE IF NOT EXISTS tag_rows (
    article_id VARCHAR, tag VARCHAR, score DOUBLE, evidence VARCHAR, tagger_version VARCHAR
);
CREATE TABLE IF NOT EXISTS entity_rows (
    article_id VARCHAR, kind VARCHAR, name VARCHAR, role VARCHAR, value_usd DOUBLE,
    mention VARCHAR, tagger_version VARCHAR, category VARCHAR
);
ALTER TABLE entity_rows ADD COLUMN IF NOT EXISTS category VARCHAR;
ALTER TABLE entity_rows ADD COLUMN IF NOT EXISTS in_deal BOOLEAN;
-- Frames: one row per arms deal (its systems as parallel lists) and per sanction action, written
-- with the article's tags and entities and replaced with them.
CREATE TABLE IF NOT EXISTS deal_rows (
    article_id VARCHAR, deal_no INTEGER, systems VARCHAR[], categories VARCHAR[], from_gazetteer BOOLEAN[],
    quantity INTEGER, suppliers VARCHAR[], recipients VARCHAR[], value_usd DOUBLE, status VARCHAR,
    evidence VARCHAR, tagger_version VARCHAR
);
CREATE TABLE IF NOT EXISTS sanction_rows (
    article_id VARCHAR, action_no INTEGER, action VARCHAR, sanctioning VARCHAR, target VARCHAR,
    target_kind VARCHAR, regime VARCHAR, evidence VARCHAR, tagger_version VARCHAR
);
CREATE TABLE IF NOT EXISTS failure_rows (
    url VARCHAR, stage VARCHAR, error VARCHAR, failed_at TIMESTAMP, entry_key VARCHAR,
    retryable BOOLEAN, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS run_rows (
    run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, summary VARCHAR
);
-- A run's claim on a pending entry's URL, so concurrent runs on one shared catalog split the
-- work instead of repeating it; a claim past expires_at no longer counts (its run died).
CREATE TABLE IF NOT EXISTS entry_claims (
    url VARCHAR, run_id VARCHAR, claimed_at TIMESTAMP, expires_at TIMESTAMP
);
