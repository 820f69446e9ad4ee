"""One case per query-shape rule of issue 21 (``query_rules.py``), on the tables of ``rulecases.SETUP``:
``cs`` columnstore sharded, ``rs``/``rs2`` rowstore sharded, ``ref`` a rowstore REFERENCE table."""

from __future__ import annotations

from tests.gateway.rulecases import RuleCase

SHAPE_CASES: tuple[RuleCase, ...] = (
    RuleCase(
        "multi_table_reference_target",
        "DELETE ref FROM ref INNER JOIN cs ON ref.a = cs.id WHERE cs.name = 'x'",
        "DELETE FROM ref WHERE id IN (1, 2)",
    ),
    RuleCase(
        "update_order_by",
        "UPDATE cs SET name = 'a' ORDER BY id DESC",
        "UPDATE cs SET name = 'a' WHERE id > 0",
        fields={"near": "ORDER BY id DESC"},
    ),
    RuleCase("update_limit_sharded", "UPDATE cs SET name = 'a' LIMIT 1", "UPDATE ref SET a = 1 LIMIT 1"),
    RuleCase(
        "select_in_values",
        "INSERT INTO rs (id, name) VALUES (1, (SELECT MAX(name) FROM cs))",
        "INSERT INTO rs (id, name) SELECT 1, MAX(name) FROM cs",
    ),
    RuleCase(
        "upsert_shard_key",
        "INSERT INTO rs2 (id, v) VALUES (1, 1) ON DUPLICATE KEY UPDATE id = VALUES(id)",
        "INSERT INTO rs2 (id, v) VALUES (1, 1) ON DUPLICATE KEY UPDATE v = VALUES(v)",
    ),
    RuleCase(
        "date_before_1000",
        "INSERT INTO rs (id, name) VALUES (1, '0500-01-01')",
        "INSERT INTO rs (id, name) VALUES (1, '1500-01-01')",
        fields={"value": "0500-01-01"},
    ),
    RuleCase(
        "recursive_cte_union",
        "WITH RECURSIVE c (n) AS (SELECT 1 UNION SELECT n + 1 FROM c WHERE n < 3) SELECT n FROM c",
        "WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3) SELECT n FROM c",
    ),
    RuleCase(
        "collate_order_by",
        "SELECT name FROM cs ORDER BY name COLLATE utf8mb4_bin",
        "SELECT name COLLATE utf8mb4_bin AS n FROM cs ORDER BY n",
    ),
    RuleCase(
        "subselect_two_levels_up",
        "SELECT cs.id FROM cs WHERE EXISTS (SELECT 1 FROM ref r WHERE r.a = cs.id AND "
        "EXISTS (SELECT 1 FROM rs WHERE rs.id = cs.id))",
        "SELECT cs.id FROM cs WHERE EXISTS (SELECT 1 FROM ref r WHERE r.a = cs.id AND "
        "EXISTS (SELECT 1 FROM rs WHERE rs.id = r.id))",
    ),
    RuleCase(
        "correlated_subselect_order_by",
        "SELECT id FROM cs ORDER BY (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id)",
        "SELECT cs.id FROM cs LEFT JOIN ref r ON r.id = cs.id ORDER BY r.a",
    ),
    RuleCase(
        "correlated_subselect_having",
        "SELECT cs.id FROM cs GROUP BY cs.id HAVING COUNT(*) > (SELECT COUNT(*) FROM ref r WHERE r.a = cs.id)",
        "SELECT cs.id FROM cs GROUP BY cs.id HAVING COUNT(*) > (SELECT COUNT(*) FROM ref r)",
    ),
    RuleCase(
        "subselect_group_order_pushed_down",
        "SELECT COUNT(*) FROM cs GROUP BY (SELECT r.a FROM ref r WHERE r.id = cs.id)",
        "SELECT COUNT(*) FROM cs LEFT JOIN ref r ON r.id = cs.id GROUP BY r.a",
    ),
    RuleCase(
        "subselect_in_aggregate",
        "SELECT SUM((SELECT MAX(a) FROM ref)) FROM cs",
        "SELECT SUM(cs.id) + (SELECT MAX(a) FROM ref) FROM cs",
    ),
    RuleCase(
        "correlated_subselect_columnstore_project",
        "SELECT cs.name, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m, COUNT(*) FROM cs GROUP BY cs.name",
        "SELECT cs.id, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m, COUNT(*) FROM cs GROUP BY cs.id",
    ),
    RuleCase(
        "correlated_subselect_columnstore_project",
        "SELECT DISTINCT (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m FROM cs",
        "SELECT DISTINCT (SELECT MAX(r.a) FROM ref r WHERE r.id = rs.id) AS m FROM rs",
    ),
    RuleCase(
        "nested_scalar_subselects",
        "SELECT (SELECT (SELECT MAX(rs.id) FROM rs WHERE rs.id = r.id) FROM ref r WHERE r.id = cs.id) FROM cs",
        "SELECT (SELECT MAX(rs.id) FROM rs WHERE rs.id = cs.id) FROM cs",
    ),
)

#: (error, statement): more spellings of the refused shapes (whitespace, comments, joins, aliases).
VARIANTS: tuple[tuple[str, str], ...] = (
    ("multi_table_reference_target", "UPDATE ref INNER JOIN cs ON ref.a = cs.id SET ref.a = 1"),
    ("multi_table_reference_target", "UPDATE ref, rs SET ref.a = 1 WHERE ref.a = rs.id"),
    ("multi_table_reference_target", "DELETE r FROM ref AS r JOIN rs ON r.a = rs.id"),
    ("multi_table_reference_target", "DELETE FROM ref USING ref JOIN cs ON ref.a = cs.id"),
    ("update_order_by", "UPDATE cs SET name = 'a' WHERE id > 0 ORDER/* c */BY id LIMIT 2"),
    ("update_limit_sharded", "UPDATE rs SET name = 'a' WHERE id > 0 LIMIT 1"),
    ("select_in_values", "INSERT INTO rs VALUES (3, 'x'), (4, (SELECT 'y' FROM ref LIMIT 1))"),
    ("select_in_values", "REPLACE INTO rs (id, name) VALUE (5, (SELECT MAX(name) FROM cs))"),
    ("upsert_shard_key", "INSERT INTO cs (id, name) VALUES (1, 'a') ON DUPLICATE KEY UPDATE `cs`.`id` = 2"),
    ("date_before_1000", "UPDATE rs SET name = '0999-12-31 23:59:59' WHERE id = 1"),
    (
        "recursive_cte_union",
        "WITH RECURSIVE c AS (SELECT 1 AS n UNION DISTINCT SELECT n + 1 FROM c WHERE n < 2) SELECT n FROM c",
    ),
    ("collate_order_by", "SELECT id, name FROM cs ORDER BY id, LOWER(name) COLLATE utf8mb4_bin DESC"),
    (
        "correlated_subselect_order_by",
        "SELECT cs.id, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m FROM cs ORDER BY m",
    ),
    (
        "correlated_subselect_order_by",
        "SELECT cs.id, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) FROM cs ORDER BY 2 DESC",
    ),
    (
        "correlated_subselect_order_by",
        "SELECT id FROM cs ORDER BY EXISTS (SELECT 1 FROM ref U0 WHERE U0.a = cs.id) DESC",
    ),
    (
        "subselect_in_aggregate",
        "SELECT COUNT(CASE WHEN EXISTS (SELECT 1 FROM ref r WHERE r.a = cs.id) THEN 1 END) FROM cs",
    ),
    ("for_update_columnstore_join", "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id FOR  UPDATE"),
    ("for_update_columnstore_join", "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id FOR\nUPDATE"),
    ("for_update_columnstore_join", "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id FOR/* x */UPDATE"),
    ("for_update_columnstore_join", "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id for -- c\n update"),
)

#: Statements next to the refused shapes that SingleStore accepts: the gateway must forward them.
ACCEPTED: tuple[str, ...] = (
    "DELETE FROM ref WHERE id IN (SELECT * FROM (SELECT ref.id FROM ref JOIN cs ON ref.a = cs.id) s)",
    "UPDATE ref SET a = 2 WHERE id IN (1, 2)",
    "UPDATE cs INNER JOIN rs ON cs.id = rs.id SET cs.name = 'j'",
    "INSERT INTO rs (id, name) SELECT id + 100, name FROM cs",
    "INSERT INTO rs (id, name) VALUES (7, 'value')",
    "SELECT id FROM cs ORDER BY (SELECT MAX(a) FROM ref)",
    "SELECT cs.id, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m FROM cs ORDER BY cs.id",
    "SELECT cs.id FROM cs WHERE EXISTS (SELECT 1 FROM ref r WHERE r.a = cs.id) ORDER BY cs.id",
    # grouped by the column the subselect reads (Django's GROUP BY of the primary key): ran for the older backend
    "SELECT cs.id, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m, COUNT(*) FROM cs GROUP BY cs.id",
    "SELECT name FROM cs WHERE name = 'x' COLLATE utf8mb4_bin ORDER BY name",
    "SELECT id FROM rs FOR UPDATE",
    "SELECT 'for update', 'FOR  UPDATE' FROM rs",
)
