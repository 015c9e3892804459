"""Re-run the tagger over stored article text, without fetching anything.

Tags and entities record the tagger version that produced them, so after an upgrade a retag
replaces exactly the rows an older tagger wrote (or every row, with `everything`). Plain Python:
`newsflow retag` calls it directly and flows/retag.py wraps it as a Prefect flow."""

from __future__ import annotations

from pathlib import Path

from extractors.tagging import Tagger
from newsflow.models import ArticleEntity, ArticleFrames, ArticleTag
from newsflow.pipeline import chunks
from warehouse.store import Warehouse

BATCH = 500  # articles per transaction


def retag_articles(lake_dir: Path, everything: bool = False) -> dict[str, int]:
    tagger = Tagger.default()
    warehouse = Warehouse(lake_dir)
    try:
        stale = warehouse.articles_to_retag(tagger.version, everything)
        tagged = 0
        for chunk in chunks(stale, BATCH):
            tags: list[ArticleTag] = []
            entities: list[ArticleEntity] = []
            frames: list[ArticleFrames] = []
            for article in chunk:
                result = tagger.tag(article.title or "", article.text or "", article.published_at)
                tags.extend(ArticleTag(article.article_id, t, tagger.version) for t in result.tags)
                entities.extend(ArticleEntity(article.article_id, e, tagger.version) for e in result.entities)
                frames.append(ArticleFrames(article.article_id, result.deals, result.sanction_actions, tagger.version))
                tagged += bool(result.tags)
            warehouse.replace_tags(tags, entities, [article.article_id for article in chunk], frames)
        return {"articles_retagged": len(stale), "articles_tagged": tagged}
    finally:
        warehouse.close()
