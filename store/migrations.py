"""Versioned schema migrations of the metadata database.

A migration runs once, in order, inside one transaction; add new ones at the
end with the next version number and never edit one that has shipped. Plain
SQL types only (VARCHAR, INTEGER, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP) so the
same tables move to DuckLake unchanged. JSON lives in VARCHAR columns.
Each domain owns its tables (named in the comments); domains never read
another domain's tables.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Migration", "MIGRATIONS"]


@dataclass(frozen=True)
class Migration:
    """One schema change: a version number, a name and its SQL statements.

    ``postgres``: statements only PostgreSQL runs, sent to it as they are (secondary
    indexes: PostgreSQL keeps them right, while a DuckDB file must not have them,
    see migration 6).
    """

    version: int
    name: str
    statements: tuple[str, ...]
    postgres: tuple[str, ...] = ()


_ACCOUNTS = (
    # accounts domain
    """CREATE TABLE plans (
        name VARCHAR PRIMARY KEY,
        premium BOOLEAN NOT NULL,
        description VARCHAR NOT NULL)""",
    "INSERT INTO plans VALUES ('free', false, 'Free: library, boards and a small AI allowance'),"
    " ('premium', true, 'Premium: 100 AI credits, automatic suggestions and Magic Boards')",
    """CREATE TABLE users (
        id VARCHAR PRIMARY KEY,
        email VARCHAR NOT NULL UNIQUE,
        display_name VARCHAR NOT NULL,
        plan VARCHAR NOT NULL,
        external_id VARCHAR,
        created_at TIMESTAMP NOT NULL)""",
    # Append-only: the balance is the sum of amounts. A reservation is a
    # negative entry; it is later either committed (amount 0, it stays spent)
    # or refunded (a positive entry of the same size).
    """CREATE TABLE credit_ledger (
        id VARCHAR PRIMARY KEY,
        user_id VARCHAR NOT NULL,
        entry VARCHAR NOT NULL,
        amount INTEGER NOT NULL,
        action VARCHAR NOT NULL,
        reservation_id VARCHAR,
        idempotency_key VARCHAR,
        note VARCHAR NOT NULL DEFAULT '',
        created_at TIMESTAMP NOT NULL)""",
    "CREATE INDEX credit_ledger_user ON credit_ledger (user_id)",
)

_LIBRARY = (
    # library domain
    """CREATE TABLE images (
        id VARCHAR PRIMARY KEY,
        owner VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        filename VARCHAR NOT NULL,
        mime VARCHAR NOT NULL,
        bytes BIGINT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        blob_key VARCHAR NOT NULL,
        thumb_key VARCHAR NOT NULL,
        colors VARCHAR NOT NULL DEFAULT '[]',
        caption VARCHAR NOT NULL DEFAULT '',
        labels VARCHAR NOT NULL DEFAULT '[]',
        visibility VARCHAR NOT NULL DEFAULT 'private',
        source VARCHAR NOT NULL DEFAULT 'upload',
        status VARCHAR NOT NULL,
        embed_model VARCHAR,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        UNIQUE (owner, sha256))""",
    "CREATE TABLE image_tags (image_id VARCHAR NOT NULL, tag VARCHAR NOT NULL, PRIMARY KEY (image_id, tag))",
)

_WRITING = (
    # writing domain
    """CREATE TABLE documents (
        id VARCHAR PRIMARY KEY,
        owner VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        body VARCHAR NOT NULL,
        meta VARCHAR NOT NULL DEFAULT '{}',
        offline BOOLEAN NOT NULL DEFAULT false,
        version INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE document_versions (
        document_id VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        body VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        prompt VARCHAR NOT NULL DEFAULT '',
        model VARCHAR NOT NULL DEFAULT '',
        credits INTEGER NOT NULL DEFAULT 0,
        note VARCHAR NOT NULL DEFAULT '',
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (document_id, version))""",
)

_BOARDS = (
    # boards domain
    """CREATE TABLE boards (
        id VARCHAR PRIMARY KEY,
        owner VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        description VARCHAR NOT NULL DEFAULT '',
        status VARCHAR NOT NULL DEFAULT 'active',
        deleted_at TIMESTAMP,
        revision BIGINT NOT NULL DEFAULT 0,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE board_items (
        id VARCHAR PRIMARY KEY,
        board_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        image_id VARCHAR,
        document_id VARCHAR,
        range_start INTEGER,
        range_end INTEGER,
        text VARCHAR NOT NULL DEFAULT '',
        url VARCHAR NOT NULL DEFAULT '',
        caption VARCHAR NOT NULL DEFAULT '',
        color VARCHAR NOT NULL DEFAULT '',
        x DOUBLE NOT NULL,
        y DOUBLE NOT NULL,
        w DOUBLE NOT NULL,
        h DOUBLE NOT NULL,
        z INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    "CREATE INDEX board_items_board ON board_items (board_id)",
    """CREATE TABLE board_members (
        board_id VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (board_id, user_id))""",
    """CREATE TABLE share_links (
        id VARCHAR PRIMARY KEY,
        board_id VARCHAR NOT NULL,
        token_hash VARCHAR NOT NULL UNIQUE,
        role VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        label VARCHAR NOT NULL DEFAULT '',
        expires_at TIMESTAMP,
        revoked_at TIMESTAMP,
        created_at TIMESTAMP NOT NULL)""",
    # One row per board change: the activity history, the undo stack and the
    # event a real-time subscriber forwards.
    """CREATE TABLE board_events (
        id VARCHAR PRIMARY KEY,
        board_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        actor VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        payload VARCHAR NOT NULL,
        inverse VARCHAR NOT NULL DEFAULT '',
        undone BOOLEAN NOT NULL DEFAULT false,
        created_at TIMESTAMP NOT NULL)""",
    "CREATE INDEX board_events_board ON board_events (board_id, seq)",
)

_OUTBOX = (
    # Work that spans stores (embedding an image, deleting its blobs) is
    # recorded here in the same transaction as the row it concerns, then
    # carried out by a worker; reconcile finishes or undoes what a crash left.
    """CREATE TABLE outbox (
        id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        subject VARCHAR NOT NULL,
        payload VARCHAR NOT NULL DEFAULT '{}',
        status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error VARCHAR NOT NULL DEFAULT '',
        available_at TIMESTAMP NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    "CREATE INDEX outbox_status ON outbox (status, available_at)",
)

_NO_SECONDARY_INDEXES = (
    # DuckDB 1.4.4 can persist a secondary ART index that misses rows replayed
    # from the WAL (duckdb/duckdb#23788): after a restart every board opened
    # empty. Zonemaps serve these lookups at our sizes (bench/metadata.py), so
    # the schema keeps only primary-key and UNIQUE indexes, which store/integrity.py
    # checks at every start.
    "DROP INDEX IF EXISTS credit_ledger_user",
    "DROP INDEX IF EXISTS board_items_board",
    "DROP INDEX IF EXISTS board_events_board",
    "DROP INDEX IF EXISTS outbox_status",
)

_STORYBOARDS = (
    # storyboards domain: the stored link between a screenplay and the board drawn from it.
    # One row per storyboard board, one per scene row on it (``status`` live or cut, ``position``
    # its place in the script when last synced), one per frame (the lines it shows, 1-based).
    """CREATE TABLE storyboards (
        board_id VARCHAR PRIMARY KEY,
        owner VARCHAR NOT NULL,
        document_id VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        whole_script BOOLEAN NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE storyboard_scenes (
        board_id VARCHAR NOT NULL,
        scene_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        heading VARCHAR NOT NULL,
        number VARCHAR,
        fingerprint VARCHAR NOT NULL,
        first_line INTEGER NOT NULL,
        last_line INTEGER NOT NULL,
        heading_item VARCHAR,
        status VARCHAR NOT NULL,
        PRIMARY KEY (board_id, scene_id))""",
    """CREATE TABLE storyboard_frames (
        board_id VARCHAR NOT NULL,
        item_id VARCHAR NOT NULL,
        scene_id VARCHAR NOT NULL,
        shot INTEGER NOT NULL,
        first_line INTEGER NOT NULL,
        last_line INTEGER NOT NULL,
        beat VARCHAR NOT NULL,
        caption VARCHAR NOT NULL,
        note VARCHAR NOT NULL DEFAULT '',
        image_id VARCHAR,
        score DOUBLE,
        source VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        PRIMARY KEY (board_id, item_id))""",
)

# What the offline embedder saw in a still, with its confidence ("tabby 0.62"), for "why this result".
_LABEL_SCORES = ("ALTER TABLE images ADD COLUMN label_scores VARCHAR DEFAULT '[]'",)

_SHARED_WRITERS = (
    # accounts domain: the balance as one row, updated in the same transaction as its
    # ledger entry. Two processes reserving at once both update this row, so one of
    # them is retried and sees the other's spend: a reservation can never overdraw.
    """CREATE TABLE credit_balances (
        user_id VARCHAR PRIMARY KEY,
        credits INTEGER NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    "INSERT INTO credit_balances SELECT user_id, CAST(sum(amount) AS INTEGER), now() FROM credit_ledger"
    " GROUP BY user_id",
    # library domain: a running job is leased by one worker until ``lease_until``; the
    # worker extends it while it works (a heartbeat), and a job whose lease ran out
    # (its worker died) is taken over by another.
    "ALTER TABLE outbox ADD COLUMN lease_owner VARCHAR",
    "ALTER TABLE outbox ADD COLUMN lease_until TIMESTAMP",
)
_SHARED_WRITERS_INDEXES = (
    "CREATE INDEX IF NOT EXISTS credit_ledger_user ON credit_ledger (user_id)",
    "CREATE INDEX IF NOT EXISTS credit_ledger_reservation ON credit_ledger (reservation_id)",
    "CREATE INDEX IF NOT EXISTS board_items_board ON board_items (board_id)",
    "CREATE INDEX IF NOT EXISTS board_events_board ON board_events (board_id, seq)",
    "CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, available_at)",
    "CREATE INDEX IF NOT EXISTS outbox_subject ON outbox (subject)",
    "CREATE INDEX IF NOT EXISTS images_owner ON images (owner, created_at)",
    "CREATE INDEX IF NOT EXISTS share_links_board ON share_links (board_id)",
)

_CO_EDITING = (
    # boards domain: comments pinned to a card (``item_id``) or a canvas spot (``x``, ``y``);
    # a reply names its thread's first comment in ``parent_id``. ``author`` is who the history
    # names (a user id, or "link:<link id>" for a guest), ``author_name`` what the guest signed
    # with. ``mentions``: a JSON list of the board members' user ids the text @mentions.
    """CREATE TABLE board_comments (
        id VARCHAR PRIMARY KEY,
        board_id VARCHAR NOT NULL,
        parent_id VARCHAR,
        item_id VARCHAR,
        x DOUBLE,
        y DOUBLE,
        author VARCHAR NOT NULL,
        author_id VARCHAR,
        author_name VARCHAR NOT NULL,
        guest BOOLEAN NOT NULL,
        body VARCHAR NOT NULL,
        mentions VARCHAR NOT NULL DEFAULT '[]',
        resolved_at TIMESTAMP,
        resolved_by VARCHAR,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    # boards domain: who has a board open now, one row per open view (``session_id``), in the
    # database so every replica lists everyone. ``seen_at`` moves with each heartbeat; a row
    # not seen for 10 s is no longer listed and is deleted by the next join on that board.
    """CREATE TABLE board_presence (
        session_id VARCHAR PRIMARY KEY,
        board_id VARCHAR NOT NULL,
        user_id VARCHAR,
        link_id VARCHAR,
        name VARCHAR NOT NULL,
        colour VARCHAR NOT NULL,
        guest BOOLEAN NOT NULL,
        selection VARCHAR NOT NULL DEFAULT '[]',
        cursor_x DOUBLE,
        cursor_y DOUBLE,
        joined_at TIMESTAMP NOT NULL,
        seen_at TIMESTAMP NOT NULL)""",
)
_CO_EDITING_INDEXES = (
    "CREATE INDEX IF NOT EXISTS board_comments_board ON board_comments (board_id, created_at)",
    "CREATE INDEX IF NOT EXISTS board_presence_board ON board_presence (board_id, seen_at)",
)

_BLOB_REFS = (
    # library domain: how many images use each stored file (by content, so copies share one),
    # and whether it is being deleted. Uploads and deletes both write a file's row in their
    # transaction, so with several replicas they take turns (workbench/library/blob_refs.py).
    """CREATE TABLE blob_refs (
        blob_key VARCHAR PRIMARY KEY,
        refs INTEGER NOT NULL,
        state VARCHAR NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    "INSERT INTO blob_refs SELECT k, CAST(count(*) AS INTEGER), 'live', now() FROM"
    " (SELECT blob_key AS k FROM images UNION ALL SELECT thumb_key AS k FROM images) GROUP BY k",
)

_SAVED_SEARCHES = (
    # search domain: a search someone named and kept (``query``: the SearchQuery as JSON, with its
    # threshold). One row per person and name: saving again under a name replaces its query.
    """CREATE TABLE saved_searches (
        id VARCHAR PRIMARY KEY,
        owner VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        query VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
)
_SAVED_SEARCHES_INDEXES = ("CREATE INDEX IF NOT EXISTS saved_searches_owner ON saved_searches (owner, name)",)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "accounts", _ACCOUNTS),
    Migration(2, "library", _LIBRARY),
    Migration(3, "writing", _WRITING),
    Migration(4, "boards", _BOARDS),
    Migration(5, "outbox", _OUTBOX),
    Migration(6, "no secondary indexes", _NO_SECONDARY_INDEXES),
    Migration(7, "storyboards", _STORYBOARDS),
    Migration(8, "label scores", _LABEL_SCORES),
    Migration(9, "shared writers", _SHARED_WRITERS, postgres=_SHARED_WRITERS_INDEXES),
    Migration(10, "co-editing", _CO_EDITING, postgres=_CO_EDITING_INDEXES),
    Migration(11, "blob references", _BLOB_REFS),
    Migration(12, "saved searches", _SAVED_SEARCHES, postgres=_SAVED_SEARCHES_INDEXES),
)
