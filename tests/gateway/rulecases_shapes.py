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
        "SELECT DISTINCT (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m FROM cs",
        "SELECT DISTINCT (SELECT MAX(r.a) FROM ref r WHERE r.id = rs.id) AS m FROM rs",
    ),
    RuleCase(
        "nested_scalar_subselects",
        "SELECT (SELECT (SELECT MAX(rs.id) FROM rs WHERE rs.id = r.id) FROM ref r WHERE r.id = cs.id) FROM cs",
        "SELECT (SELECT MAX(rs.id) FROM rs WHERE rs.id = cs.id) FROM cs",
    ),
)
