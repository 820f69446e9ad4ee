"""Tables of every storage and key shape, in SingleStore's own DDL (run through the aggregator as is).

columnstore with a sort key, comments; rowstore with a plain and a hash secondary key; columnstore REFERENCE with an
inline unique; ROWSTORE REFERENCE with a two-column unique; keyless sharding (`SHARD KEY ()`) with a
JSON column; the "id demoted" shape (AUTO_INCREMENT id as a plain hash KEY, unique shard key); a
composite primary key with a shard key on part of it and a hash index; an UNENFORCED unique key; a
PERSISTED computed column and a column collation.
"""

SHAPES = {
    "cs_plain": (
        "CREATE TABLE cs_plain (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
        "name VARCHAR(40) NOT NULL COMMENT 'the name', created DATETIME(6) NULL, "
        "SORT KEY (created)) COMMENT 'plain columnstore'"
    ),
    "rs_keyed": (
        "CREATE ROWSTORE TABLE rs_keyed (id BIGINT NOT NULL, code VARCHAR(10) NOT NULL, qty INT NULL, "
        "PRIMARY KEY (id), KEY rs_keyed_qty (qty), KEY rs_keyed_code (code) USING HASH)"
    ),
    "ref_codes": (
        "CREATE REFERENCE TABLE ref_codes (code VARCHAR(10) NOT NULL PRIMARY KEY, "
        "label VARCHAR(50) NOT NULL UNIQUE)"
    ),
    "rref_pairs": (
        "CREATE ROWSTORE REFERENCE TABLE rref_pairs (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
        "a INT NOT NULL, b INT NOT NULL, UNIQUE KEY rref_pairs_ab (a, b))"
    ),
    "events": (
        "CREATE TABLE events (id BIGINT NOT NULL PRIMARY KEY, kind VARCHAR(20) NOT NULL, "
        "payload JSON NULL, SHARD KEY ())"
    ),
    "members": (
        "CREATE TABLE members (id BIGINT AUTO_INCREMENT, username VARCHAR(30) NOT NULL, "
        "KEY (id) USING HASH, UNIQUE KEY members_username (username), SHARD KEY (username))"
    ),
    "tenant_items": (
        "CREATE TABLE tenant_items (tenant_id BIGINT NOT NULL, id BIGINT NOT NULL, v INT NULL, "
        "PRIMARY KEY (tenant_id, id), SHARD KEY (tenant_id), KEY tenant_items_v (v) USING HASH)"
    ),
    "contacts": (
        "CREATE TABLE contacts (id BIGINT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(60) NULL, "
        "UNIQUE KEY contacts_email (email) UNENFORCED RELY)"
    ),
    "totals": (
        "CREATE TABLE totals (id BIGINT AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL, b INT NOT NULL, "
        "total AS (a + b) PERSISTED INT, note VARCHAR(20) COLLATE utf8mb4_bin NULL)"
    ),
}
