"""VECTOR through the gateway: the field, the distance expressions, k-nearest queries, the index DDL,
introspection and inspectdb, and the native async path."""

from __future__ import annotations

import io
import json
import math
import random
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connections

from django_singlestore.vector import (
    CosineDistance,
    CosineSimilarity,
    DotProduct,
    EuclideanDistance,
    VectorField,
    VectorIndex,
    VectorManager,
)
from tests.vector.conftest import Router
from tests.vector.models import Doc, DocExtra, Loose


def exact(rng: random.Random, n: int) -> list[float]:
    """Multiples of 1/1024: exact in F32. (The JSON text holds them to 9 significant digits, which is exact
    as F32 but not always as a Python float: comparisons allow F32's relative precision.)"""
    return [rng.randint(-1024, 1024) / 1024 for _ in range(n)]


def dot(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def dist(a: list[float], b: list[float]) -> float:
    return math.sqrt(math.fsum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


def cos(a: list[float], b: list[float]) -> float:
    return dot(a, b) / (math.sqrt(dot(a, a)) * math.sqrt(dot(b, b)))


@pytest.fixture
def docs(vec: Any) -> list[Doc]:
    Doc.objects.all().delete()
    rng = random.Random(18)
    Doc.objects.bulk_create(Doc(label=f"d{i}", embedding=exact(rng, 4)) for i in range(120))
    return list(Doc.objects.all())


def test_round_trip_lists_and_numpy(vec: Any) -> None:
    doc = Doc.objects.create(label="a", embedding=[0.5, -1.25, 3, 1e-3])
    got = Doc.objects.get(pk=doc.pk).embedding
    # F32 elements: 0.001 comes back as the F32 nearest to it
    assert got == pytest.approx([0.5, -1.25, 3.0, 0.001], rel=1e-7) and all(isinstance(v, float) for v in got)
    loose = Loose.objects.create(embedding=np.array([1.5, 2.0, -0.25], dtype=np.float32))
    arr = Loose.objects.get(pk=loose.pk).embedding
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32 and arr.tolist() == [1.5, 2.0, -0.25]
    Loose.objects.create(embedding=None)
    assert Loose.objects.filter(embedding__isnull=True).count() == 1
    with vec.cursor() as cursor:  # SELECT renders the stored elements as JSON text
        cursor.execute("SELECT embedding, d.embedding e2, d.* FROM s2vector_doc d WHERE id = %s", [doc.pk])
        row = cursor.fetchone()
        assert row[0] == row[1] == row[4] == "[0.5,-1.25,3,0.00100000005]"
        assert [c[0] for c in cursor.description] == ["embedding", "e2", "id", "label", "embedding"]


def test_storage_is_packed_f32(vec: Any, testbed: Any) -> None:
    """The gateway stores n packed little-endian F32 elements, as SingleStore does."""
    if testbed.mariadb is None:
        pytest.skip("gateway only: reads the MariaDB behind the gateway")
    doc = Doc.objects.create(label="p", embedding=[1.5, -2, 0.25, 8])
    with vec.cursor() as cursor:
        cursor.execute("SELECT HEX(embedding), DATABASE() FROM s2vector_doc WHERE id = %s", [doc.pk])
        hexed, _db = cursor.fetchone()
    assert bytes.fromhex(hexed) == np.array([1.5, -2, 0.25, 8], dtype="<f4").tobytes()
    Doc.objects.filter(pk=doc.pk).update(embedding=[1, 2, 3, 4])
    assert Doc.objects.get(pk=doc.pk).embedding == [1.0, 2.0, 3.0, 4.0]
    with (
        vec.cursor() as cursor,
        pytest.raises(DatabaseError, match="Invalid VECTOR\\(4, F32\\) value for column 'embedding'") as info,
    ):
        cursor.execute("INSERT INTO s2vector_doc (label, embedding) VALUES ('bad', '[1,2,3]')")
    assert info.value.args[0] == 1366


def test_binary_reads(vec: Any) -> None:
    """SingleStore's packed little-endian format (vector_type_project_format=BINARY, JSON_ARRAY_PACK)."""
    field = Doc._meta.get_field("embedding")
    with vec.cursor() as cursor:
        cursor.execute("SELECT JSON_ARRAY_PACK(%s)", ["[1.5,-2,0.25,8]"])
        packed = cursor.fetchone()[0]
    assert isinstance(packed, bytes) and len(packed) == 16
    assert field.from_db_value(packed, None, vec) == [1.5, -2.0, 0.25, 8.0]
    # packed bytes that start with '[' and end with ']' are still read as packed
    tricky = np.array([1.0, 2.0, 3.0, 0.0], dtype="<f4").tobytes()
    tricky = b"[" + tricky[1:-1] + b"]"
    assert field.from_db_value(tricky, None, vec) == np.frombuffer(tricky, dtype="<f4").tolist()
    loose = Loose._meta.get_field("embedding")
    out = loose.from_db_value(np.array([1, 2, 3], dtype="<f4").tobytes(), None, vec)
    assert isinstance(out, np.ndarray) and out.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1.0, 2.0, 3.0], "s2vector.Doc.embedding: expected 4 dimensions, got 3"),
        ([1.0, float("nan"), 3.0, 4.0], "s2vector.Doc.embedding: NaN and infinity"),
        ([1.0, float("inf"), 3.0, 4.0], "s2vector.Doc.embedding: NaN and infinity"),
        ([1.0, "x", 3.0, 4.0], "s2vector.Doc.embedding: every element must be a number"),
    ],
)
def test_invalid_values_name_the_field(vec: Any, value: list[Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message.replace(".", r"\.")):
        Doc.objects.create(label="bad", embedding=value)
    with pytest.raises(ValueError, match="the query vector has 3 dimensions, the field 4"):
        list(Doc.objects.annotate(d=DotProduct("embedding", [1, 2, 3])))


def test_distances_match_python(docs: list[Doc]) -> None:
    q = [0.25, -0.5, 1.0, 0.125]
    rows = Doc.objects.annotate(
        dp=DotProduct("embedding", q),
        ed=EuclideanDistance("embedding", q),
        cs=CosineSimilarity("embedding", q),
        cd=CosineDistance("embedding", q),
        self_cs=CosineSimilarity("embedding", "embedding"),
    )
    seen = 0
    for row in rows:
        e = row.embedding
        assert row.dp == pytest.approx(dot(e, q), rel=1e-6, abs=1e-9)
        assert row.ed == pytest.approx(dist(e, q), abs=1e-9)
        if any(e):
            assert row.cs == pytest.approx(cos(e, q), rel=1e-6)
            assert row.cd == pytest.approx(1 - cos(e, q), abs=1e-6)
            assert row.self_cs == pytest.approx(1.0, rel=1e-7)
        seen += 1
    assert seen == len(docs)


@pytest.mark.parametrize(
    ("expression", "key", "descending"),
    [
        (EuclideanDistance, dist, False),
        (DotProduct, dot, True),
        (CosineDistance, lambda a, b: 1 - cos(a, b), False),
    ],
)
def test_k_nearest_equals_brute_force(docs: list[Doc], expression: Any, key: Any, descending: bool) -> None:
    q = [0.75, 0.5, -0.25, 1.0]
    expected = sorted(docs, key=lambda d: key(d.embedding, q), reverse=descending)[:10]
    order = "-d" if descending else "d"
    got = list(
        Doc.objects.annotate(d=expression("embedding", q)).order_by(order).values_list("pk", flat=True)[:10]
    )
    assert got == [d.pk for d in expected]
    # ordering by the expression itself, without an annotation
    by_expr = expression("embedding", q)
    direct = Doc.objects.order_by(by_expr.desc() if descending else by_expr.asc())[:10]
    assert [d.pk for d in direct] == got


@pytest.mark.parametrize(
    ("metric", "key"),
    [
        ("EUCLIDEAN_DISTANCE", dist),
        ("DOT_PRODUCT", lambda a, b: -dot(a, b)),
        ("COSINE", lambda a, b: 1 - cos(a, b)),
    ],
)
def test_nearest_fast_path_equals_brute_force(docs: list[Doc], metric: str, key: Any) -> None:
    q = [0.75, 0.5, -0.25, 1.0]
    expected = sorted(docs, key=lambda d: key(d.embedding, q))[:7]
    for _ in range(2):  # the second call runs the kept plan
        got = Doc.objects.nearest("embedding", q, k=7, metric=metric)
        assert [d.pk for d in got] == [d.pk for d in expected]
        assert [d.label for d in got] == [d.label for d in expected]
        assert "embedding" in got[0].get_deferred_fields()
    sign = -1 if metric == "DOT_PRODUCT" else 1
    assert got[0].distance * sign == pytest.approx(key(expected[0].embedding, q), rel=1e-6)
    full = Doc.objects.nearest(
        "embedding", q, k=3, metric=metric, fields=["label", "embedding"], annotation="d"
    )
    assert full[0].embedding == expected[0].embedding and full[0].d == pytest.approx(got[0].distance)
    with pytest.raises(ValueError, match="metric"):
        Doc.objects.nearest("embedding", q, metric="MANHATTAN")


def test_nearest_instances_equal_the_querysets(docs: list[Doc]) -> None:
    """nearest() fills instances directly (no Model.__init__): the same __dict__, state and deferred
    fields as the queryset's from_db instances; with a post_init receiver it goes through from_db, so
    the receiver sees every row."""
    from django.db.models.signals import post_init

    q = [0.25, -0.5, 0.75, 0.0]
    qs = (
        Doc.objects.only("id", "label")
        .annotate(distance=EuclideanDistance("embedding", q))
        .order_by("distance")
    )
    for _ in range(2):
        want, got = list(qs[:5]), Doc.objects.nearest("embedding", q, k=5)
        assert [type(d) for d in got] == [Doc] * 5
        for a, b in zip(want, got, strict=True):
            assert {k: v for k, v in vars(a).items() if k != "_state"} == {
                k: v for k, v in vars(b).items() if k != "_state"
            }
            assert (b._state.adding, b._state.db) == (a._state.adding, a._state.db) == (False, "vec")
            assert b.get_deferred_fields() == a.get_deferred_fields() == {"embedding"}
        assert got[0].embedding == want[0].embedding  # the deferred field loads on access
    assert [
        p.direct
        for key, p in VectorManager._plans.items()
        if key[1:6] == (Doc, "vec", "embedding", "EUCLIDEAN_DISTANCE", 5)
    ] == [True]
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Doc)
    try:
        got = Doc.objects.nearest("embedding", q, k=5)
    finally:
        post_init.disconnect(receiver, sender=Doc)
    assert seen == got and [d.pk for d in got] == [d.pk for d in want]


def test_nearest_kept_cursor_keeps_djangos_contract(docs: list[Doc], vec: Any) -> None:
    """nearest() runs on a cursor kept on the connection (benchmarks/knn.py): the query log and execute
    wrappers still see its statement, a reconnect gets a new cursor, and Django's checks and exception
    types hold (broken transaction, thread sharing, the event loop, a server error)."""
    import asyncio
    import threading

    from django.core.exceptions import SynchronousOnlyOperation
    from django.db import ProgrammingError, transaction
    from django.db.transaction import TransactionManagementError
    from django.test.utils import CaptureQueriesContext

    from django_singlestore.vector import _KEPT_CURSOR, _fetch_rows

    q = [0.5, -0.25, 0.0, 1.0]
    want = [d.pk for d in sorted(docs, key=lambda d: dist(d.embedding, q))[:4]]
    assert [d.pk for d in Doc.objects.nearest("embedding", q, k=4)] == want
    driver, kept = vec.__dict__[_KEPT_CURSOR]
    assert driver is vec.connection
    assert [d.pk for d in Doc.objects.nearest("embedding", q, k=4)] == want
    assert vec.__dict__[_KEPT_CURSOR][1] is kept  # the same cursor, query after query
    with CaptureQueriesContext(vec) as log:
        assert [d.pk for d in Doc.objects.nearest("embedding", q, k=4)] == want
    assert len(log) == 1 and "EUCLIDEAN_DISTANCE" in log[0]["sql"]
    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with vec.execute_wrapper(wrapper):
        assert [d.pk for d in Doc.objects.nearest("embedding", q, k=4)] == want
    assert len(seen) == 1 and "EUCLIDEAN_DISTANCE" in seen[0]
    vec.close()
    assert [d.pk for d in Doc.objects.nearest("embedding", q, k=4)] == want
    assert vec.__dict__[_KEPT_CURSOR][0] is vec.connection is not driver
    assert vec.__dict__[_KEPT_CURSOR][1] is not kept
    with pytest.raises(ProgrammingError) as error:  # the driver's error, as Django's type
        _fetch_rows(vec, "SELECT `id` FROM `s2vector_no_such_table`", ())
    assert "s2vector_no_such_table" in str(error.value)
    with transaction.atomic(using="vec"):
        transaction.set_rollback(True, using="vec")
        with pytest.raises(TransactionManagementError):
            Doc.objects.nearest("embedding", q, k=4)
    raised: list[BaseException] = []

    def other_thread() -> None:
        try:
            _fetch_rows(vec, "SELECT 1", ())
        except BaseException as exc:  # the test inspects it
            raised.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert len(raised) == 1 and isinstance(raised[0], DatabaseError)
    assert "thread" in str(raised[0])

    async def from_the_event_loop() -> None:
        Doc.objects.nearest("embedding", q, k=4)

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(from_the_event_loop())


def test_filter_on_distance(docs: list[Doc]) -> None:
    q = [0.0, 0.0, 0.0, 0.0]
    want = {d.pk for d in docs if dist(d.embedding, q) < 1.0}
    got = set(
        Doc.objects.alias(d=EuclideanDistance("embedding", q)).filter(d__lt=1.0).values_list("pk", flat=True)
    )
    assert got == want and 0 < len(want) < len(docs)


def test_raw_sql_infix_operators(docs: list[Doc], vec: Any) -> None:
    q = [1.0, 0.0, -1.0, 0.5]
    text = json.dumps(q)
    with vec.cursor() as cursor:
        cursor.execute(
            "SELECT id, embedding <-> %s :> VECTOR(4) AS d FROM s2vector_doc ORDER BY d LIMIT 5", [text]
        )
        got = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT embedding <*> %s :> VECTOR(4) FROM s2vector_doc WHERE id = %s", [text, docs[0].pk]
        )
        (dp,) = cursor.fetchone()
    assert got == [d.pk for d in sorted(docs, key=lambda d: dist(d.embedding, q))[:5]]
    assert dp == pytest.approx(dot(docs[0].embedding, q))


def test_show_create_introspection_and_inspectdb(vec: Any) -> None:
    with vec.cursor() as cursor:
        cursor.execute("SHOW CREATE TABLE s2vector_doc")
        text = cursor.fetchone()[1]
        assert "`embedding` vector(4, F32) NOT NULL" in text
        assert "VECTOR INDEX `doc_emb_vec` (`embedding`) INDEX_OPTIONS " in text
        constraints = vec.introspection.get_constraints(cursor, "s2vector_doc")
        description = {c.name: c for c in vec.introspection.get_table_description(cursor, "s2vector_doc")}
    index = constraints["doc_emb_vec"]
    assert index["type"] == "vector" and index["columns"] == ["embedding"]
    assert json.loads(index["index_options"]) == {"index_type": "AUTO", "metric_type": "EUCLIDEAN_DISTANCE"}
    assert description["embedding"].declared_type == "vector(4, F32)"
    out = io.StringIO()
    call_command("inspectdb", "s2vector_doc", "s2vector_loose", database="vec", stdout=out)
    code = out.getvalue()
    assert "embedding = django_singlestore.vector.VectorField(dimensions=4)" in code
    assert "embedding = django_singlestore.vector.VectorField(dimensions=3, blank=True, null=True)" in code
    assert (
        "django_singlestore.vector.VectorIndex(fields=['embedding'], name='doc_emb_vec', index_type='AUTO', "
        "metric='EUCLIDEAN_DISTANCE')" in code
    )
    compile(code, "inspected.py", "exec")


def test_migrations_add_and_drop_field_and_index(vec: Any) -> None:
    """On the columnstore table: add a VectorField, index it, drop the index, drop the field."""
    field = DocExtra._meta.get_field("extra")
    index = VectorIndex(fields=["extra"], name="doc_extra_vec", metric="DOT_PRODUCT")
    with vec.cursor() as cursor:
        layout = vec.introspection.get_table_layout(cursor, "s2vector_doc")
    assert layout.storage.columnstore

    def constraints() -> dict[str, Any]:
        with vec.cursor() as cursor:
            return vec.introspection.get_constraints(cursor, "s2vector_doc")

    def columns() -> dict[str, Any]:
        with vec.cursor() as cursor:
            return {c.name: c for c in vec.introspection.get_table_description(cursor, "s2vector_doc")}

    with vec.schema_editor() as editor:
        editor.add_field(DocExtra, field)
    assert columns()["extra"].declared_type == "vector(2, F32)"
    Doc.objects.create(label="x", embedding=[1, 2, 3, 4])
    with vec.schema_editor() as editor:
        editor.add_index(DocExtra, index)
    assert json.loads(constraints()["doc_extra_vec"]["index_options"]) == {"metric_type": "DOT_PRODUCT"}
    with vec.schema_editor() as editor:
        editor.remove_index(DocExtra, index)
    assert "doc_extra_vec" not in constraints()
    with vec.schema_editor() as editor:
        editor.remove_field(DocExtra, field)
    assert "extra" not in columns()
    assert "doc_emb_vec" in constraints()


def test_migration_alter_nullability_on_columnstore(vec: Any) -> None:
    """NULL -> NOT NULL on a columnstore VECTOR column: SingleStore refuses the MODIFY, the backend's
    ALTER emulation replaces the column (rows kept)."""
    old = Loose._meta.get_field("embedding")
    new = VectorField(dimensions=3, as_numpy=True)
    new.set_attributes_from_name("embedding")
    new.model = Loose
    Loose.objects.all().delete()
    Loose.objects.create(embedding=[1, 2, 3])
    with vec.schema_editor() as editor:
        editor.alter_field(Loose, old, new)
    with vec.cursor() as cursor:
        columns = {c.name: c for c in vec.introspection.get_table_description(cursor, "s2vector_loose")}
    assert columns["embedding"].declared_type == "vector(3, F32)" and not columns["embedding"].null_ok
    assert Loose.objects.get().embedding.tolist() == [1.0, 2.0, 3.0]
    with vec.schema_editor() as editor:
        editor.alter_field(Loose, new, old)
    with vec.cursor() as cursor:
        columns = {c.name: c for c in vec.introspection.get_table_description(cursor, "s2vector_loose")}
    assert columns["embedding"].null_ok


def test_table_rebuild_keeps_vectors(vec: Any) -> None:
    """A layout change (a SortKey) rebuilds the table: scratch table, copy, swap. Vectors survive, the
    packing and the vector index too."""
    from django_singlestore.indexes import SortKey

    Doc.objects.all().delete()
    Doc.objects.create(label="r1", embedding=[1, 2, 3, 4])
    key = SortKey(fields=["label"], name="doc_label_srk")
    with vec.schema_editor() as editor:
        editor.add_index(Doc, key)
    try:
        with vec.cursor() as cursor:
            layout = vec.introspection.get_table_layout(cursor, "s2vector_doc")
            constraints = vec.introspection.get_constraints(cursor, "s2vector_doc")
        assert layout.sort_key == ("label",)
        assert "doc_emb_vec" in constraints
        assert Doc.objects.get().embedding == [1.0, 2.0, 3.0, 4.0]
        Doc.objects.create(label="r2", embedding=[0, 0, 0, 1])  # packed by the new table's triggers
        got = Doc.objects.nearest("embedding", [0, 0, 0, 1], k=1)
        assert got[0].label == "r2" and got[0].distance == 0
    finally:
        with vec.schema_editor() as editor:
            editor.remove_index(Doc, key)


@pytest.mark.asyncio
async def test_native_async_queryset(vec_aliases: Any, docs: list[Doc]) -> None:
    from django_singlestore_async.pool import close_pools

    Router.alias = "avec"
    try:
        q = [0.5, 0.5, 0.5, 0.5]
        nearest = await Doc.objects.annotate(d=EuclideanDistance("embedding", q)).order_by("d").afirst()
        expected = sorted(docs, key=lambda d: dist(d.embedding, q))
        assert nearest is not None and nearest.pk == expected[0].pk
        assert nearest.embedding == expected[0].embedding
        got = [d.pk async for d in Doc.objects.annotate(s=DotProduct("embedding", q)).order_by("-s")[:5]]
        assert got == [d.pk for d in sorted(docs, key=lambda d: dot(d.embedding, q), reverse=True)[:5]]
        fast = await Doc.objects.anearest("embedding", q, k=5, metric="DOT_PRODUCT")
        assert [d.pk for d in fast] == got
        assert connections["avec"].vendor == "mysql"
    finally:
        Router.alias = "vec"
        await close_pools()
