-- The public SQL contract (see README). Add columns freely; never rename or remove these.
-- One row per article: its latest version. Earlier versions stay in article_versions.
CREATE OR REPLACE VIEW latest_articles AS
SELECT * FROM article_rows
QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY coalesce(version, 1) DESC, seq DESC NULLS LAST) = 1;

-- Every spelling of a news agency and the one name stored for it ("ap" -> "Associated Press"),
-- filled from extractors/data/wire_agencies.yaml when the views are created.
CREATE OR REPLACE VIEW source_names AS
SELECT * FROM (VALUES {{source_names}}) AS t(name_key, name);

-- latest_articles with `source_name`: the site's name in the spelling credits use, so a wire's
-- own page ("AP") is recognised as the source its copies credit ("Associated Press").
CREATE OR REPLACE VIEW named_articles AS
SELECT a.*, coalesce(n.name, a.source) AS source_name
FROM latest_articles a
LEFT JOIN source_names n
       ON n.name_key = regexp_replace(regexp_replace(lower(a.source), '^\s*the\s+', ''), '[^a-z0-9]', '', 'g');

CREATE OR REPLACE VIEW story_originals AS
WITH credited AS (
    -- The source that copies credit most often is the story's original source.
    SELECT story_id, mode(syndicated_from) AS credited_source
    FROM latest_articles WHERE syndicated_from IS NOT NULL GROUP BY story_id
), ranked AS (
    SELECT a.story_id, a.article_id, a.canonical_url, a.source_name, a.title, a.published_at,
           row_number() OVER (
               PARTITION BY a.story_id
               ORDER BY (c.credited_source IS NOT NULL AND lower(a.source_name) = lower(c.credited_source)) DESC,
                        -- An agency's own page is the original its copies come from.
                        (a.source_name IN (SELECT name FROM source_names)) DESC,
                        (a.syndicated_from IS NULL) DESC,
                        a.published_at ASC NULLS LAST, a.fetched_at ASC, a.article_id ASC
           ) AS rank,
           c.credited_source
    FROM named_articles a LEFT JOIN credited c USING (story_id)
)
SELECT story_id, article_id AS original_article_id, canonical_url AS original_url,
       coalesce(credited_source, source_name) AS original_source, title,
       (credited_source IS NOT NULL) AS credited
FROM ranked WHERE rank = 1;

CREATE OR REPLACE VIEW articles AS
SELECT a.article_id, a.canonical_url AS url, a.source, a.domain, a.title, a.author,
       a.published_at, a.fetched_at, a.language, a.text, a.word_count, a.story_id,
       (a.article_id = o.original_article_id) AS is_original,
       -- A copy credits its source explicitly (dateline, byline, "Provided by", JSON); failing that,
       -- a copy of another outlet's text in the same story is syndicated from the story's original
       -- source. When that source is a wire some copy credits, every article not from the wire is
       -- a copy, even the one standing in as the story's original because the wire's own page
       -- is not in the warehouse.
       coalesce(a.syndicated_from,
                CASE WHEN (a.article_id <> o.original_article_id OR o.credited)
                          AND lower(a.source_name) <> lower(o.original_source)
                     THEN o.original_source END) AS syndicated_from,
       CASE WHEN a.syndicated_from IS NOT NULL THEN 'credited'
            WHEN (a.article_id <> o.original_article_id OR o.credited) AND lower(a.source_name) <> lower(o.original_source)
            THEN 'content_match' END AS attribution,
       a.syndicated_link,
       a.url AS feed_link, a.final_url, a.redirects, a.feed_url, a.content_hash,
       a.story_reason, a.story_similarity, a.story_matched_article_id, coalesce(a.version, 1) AS version,
       -- The measure story_similarity holds: the one that decided the join.
       CASE a.story_reason WHEN 'near_duplicate' THEN 'jaccard' WHEN 'contained' THEN 'containment'
                           WHEN 'exact_hash' THEN 'exact' END AS story_measure
FROM named_articles a LEFT JOIN story_originals o USING (story_id);

CREATE OR REPLACE VIEW article_versions AS
SELECT article_id, coalesce(version, 1) AS version, canonical_url AS url, source, title, published_at,
       fetched_at, text, word_count, content_hash, story_id, story_reason, story_similarity
FROM article_rows;

CREATE OR REPLACE VIEW stories AS
SELECT o.story_id, o.title, o.original_article_id, o.original_url, o.original_source,
       min(a.published_at) AS first_published_at, count(*) AS n_articles,
       list(DISTINCT a.source ORDER BY a.source) AS sources
FROM story_originals o JOIN latest_articles a USING (story_id)
GROUP BY ALL;

CREATE OR REPLACE VIEW article_tags AS
SELECT article_id, tag, score, evidence, tagger_version FROM tag_rows;

CREATE OR REPLACE VIEW entities AS
SELECT article_id, kind, name, role, value_usd, mention, category, in_deal, tagger_version FROM entity_rows;

-- One row per arms deal reported in an article. `system`/`category` are the deal's first system;
-- `systems`, `categories` and `from_gazetteer` list them all (false: found by the name's shape).
CREATE OR REPLACE VIEW deals AS
SELECT a.story_id, d.article_id, d.systems[1] AS system, d.categories[1] AS category, d.quantity,
       array_to_string(d.suppliers, ', ') AS supplier, array_to_string(d.recipients, ', ') AS recipient,
       d.value_usd, d.status, d.evidence, a.published_at, d.systems, d.categories, d.from_gazetteer,
       d.deal_no, d.tagger_version
FROM deal_rows d JOIN latest_articles a USING (article_id);

-- One row per (deal, weapon system) in each story's original article; a deal naming no system
-- has one row with a NULL system.
CREATE OR REPLACE VIEW arms_deals AS
WITH per_system AS (
    SELECT article_id, deal_no, suppliers, recipients, value_usd, status,
           unnest(CASE WHEN len(systems) = 0 THEN [NULL::VARCHAR] ELSE systems END) AS system,
           unnest(CASE WHEN len(systems) = 0 THEN [NULL::VARCHAR] ELSE categories END) AS category
    FROM deal_rows
)
SELECT s.story_id, array_to_string(p.suppliers, ', ') AS supplier, array_to_string(p.recipients, ', ') AS recipient,
       p.system, p.category, p.value_usd, p.status, s.first_published_at, s.title, p.deal_no, p.article_id
FROM per_system p
JOIN stories s ON s.original_article_id = p.article_id;

-- One row per sanction action reported in an article.
CREATE OR REPLACE VIEW sanction_actions AS
SELECT a.story_id, r.article_id, r.action, r.sanctioning, r.target, r.target_kind, r.regime, r.evidence,
       a.published_at, r.action_no, r.tagger_version
FROM sanction_rows r JOIN latest_articles a USING (article_id);

CREATE OR REPLACE VIEW feeds AS
SELECT feed_url, coalesce(f.name, s.name, f.title) AS title, f.last_polled_at, f.last_status,
       coalesce(f.error_count, 0) AS error_count, f.last_error, f.next_poll_at, f.etag, f.last_modified,
       coalesce(f.poll_url, feed_url) AS poll_url, f.poll_interval_s, (s.feed_url IS NOT NULL) AS subscribed
FROM feed_state f FULL OUTER JOIN subscriptions s USING (feed_url);

CREATE OR REPLACE VIEW failures AS
SELECT url, stage, error, failed_at AS "at", retryable, run_id FROM failure_rows;
