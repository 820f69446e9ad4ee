"""`django-admin schema_scenario NAME`: one scenario of tests/schema, run inside the project.

Every step asserts; a failing step ends the command with a traceback (exit status 1). Each passed step
prints `OK <step>`, and the end prints `DONE`, which the pytest side checks.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import NotSupportedError, connection

CONTRIB_TABLES = {
    "django_admin_log",
    "auth_group",
    "auth_group_permissions",
    "auth_permission",
    "auth_user",
    "auth_user_groups",
    "auth_user_user_permissions",
    "django_content_type",
    "django_session",
    "django_site",
    "django_flatpage",
    "django_flatpage_sites",
    "django_redirect",
}
# Unapplied in this order, so no app is unapplied before the apps that depend on it.
ZERO_ORDER = ["shapes", "admin", "flatpages", "redirects", "sessions", "sites", "auth", "contenttypes"]


class Command(BaseCommand):
    help = "Run one scenario of the schema tests (contrib, shapes, ids)."

    def add_arguments(self, parser):
        parser.add_argument("scenario", choices=sorted(SCENARIOS))
        parser.add_argument("--role", default="master", choices=["master", "child"])

    def handle(self, *args, scenario: str, role: str, **options):
        self.role = role
        SCENARIOS[scenario](self)
        self.stdout.write("DONE")

    def ok(self, step: str) -> None:
        self.stdout.write(f"OK {step}")
        self.stdout.flush()


def show_create(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW CREATE TABLE `{table}`")
        return cursor.fetchone()[1]


def tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def migrate_to_zero(cmd: Command) -> None:
    for app in ZERO_ORDER:
        call_command("migrate", app, "zero", verbosity=0)
    left = tables()
    assert left == {"django_migrations"}, left
    cmd.ok("back to zero")


def contrib(cmd: Command) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site

    for app in ("admin", "sessions", "flatpages", "redirects"):
        call_command("migrate", app, verbosity=0)
    missing = CONTRIB_TABLES - tables()
    assert not missing, missing
    assert "SHARD KEY" in show_create("auth_user")
    # post_migrate wrote its rows: content types, permissions, the default site.
    assert ContentType.objects.filter(app_label="auth", model="user").exists()
    assert Site.objects.get(pk=1).domain == "example.com"
    cmd.ok("contrib forward")
    migrate_to_zero(cmd)


def _expect_not_supported(call: Callable[[], object], *words: str) -> str:
    try:
        call()
    except NotSupportedError as exc:
        message = str(exc)
        for word in words:
            assert word in message, (word, message)
        return message
    raise AssertionError(f"no NotSupportedError (expected one naming {words})")


def shapes(cmd: Command) -> None:
    from django.db.models import F
    from django.test import Client

    from tests.schema.project.shapes import models as m

    call_command("migrate", verbosity=0)
    User = get_user_model()

    # Plain CRUD on every shape.
    plain = m.Plain.objects.create(name="a")
    plain.name = "b"
    plain.save()
    assert m.Plain.objects.get(pk=plain.pk).name == "b"
    two = m.TwoUniques.objects.create(code="c1", email="e1@example.com")
    two.email = "e2@example.com"
    two.save()
    assert m.TwoUniques.objects.get(code="c1").email == "e2@example.com"
    food = m.Food.objects.create(name="apple")
    assert m.Food.storage.get(pk=food.pk).name == "apple"
    keyless = m.Keyless.objects.create(payload="p")
    m.Keyless.objects.filter(pk=keyless.pk).update(payload="q")
    assert m.Keyless.objects.get(pk=keyless.pk).payload == "q"
    item = m.TenantItem.objects.create(tenant_id=1, id=1, name="first")
    item.name = "renamed"
    item.save()
    assert m.TenantItem.objects.get(pk=(1, 1)).name == "renamed"
    cmd.ok("crud")

    # Shard-key columns: unchanged values are left out of SET, changed values move the row.
    tagged = m.Tagged.objects.create(slug="s1", title="x")
    tagged.title = "y"
    tagged.save()
    tagged.slug = "s2"
    tagged.save()
    assert list(m.Tagged.objects.values_list("pk", "slug", "title")) == [(tagged.pk, "s2", "y")]
    assert m.Tagged.objects.filter(pk=tagged.pk).update(slug="s3", title="z") == 1
    assert list(m.Tagged.objects.values_list("pk", "slug", "title")) == [(tagged.pk, "s3", "z")]
    tagged.refresh_from_db()
    tagged.title = "bulk"
    assert m.Tagged.objects.bulk_update([tagged], ["slug", "title"]) == 1
    m.Tagged.objects.bulk_create(
        [m.Tagged(slug="s3", title="conflict")],
        update_conflicts=True,
        update_fields=["slug", "title"],
    )
    assert list(m.Tagged.objects.values_list("pk", "slug", "title")) == [(tagged.pk, "s3", "conflict")]
    event = m.Event.objects.create(tenant=1, created="2024-01-01T00:00:00Z", kind="k")
    m.Event.objects.filter(pk=event.pk).update(tenant=2, kind="j")
    assert m.Event.objects.get(pk=event.pk).tenant == 2
    # An expression moves the rows too (in the transaction: old rows deleted, new ones inserted).
    m.Event.objects.create(tenant=3, created="2024-01-02T00:00:00Z", kind="k")
    assert m.Event.objects.update(tenant=F("tenant") + 1) == 2
    assert sorted(m.Event.objects.values_list("tenant", flat=True)) == [3, 4]
    assert m.Event.objects.get(pk=event.pk).tenant == 3
    _expect_not_supported(
        lambda: m.TenantItem.objects.filter(pk=(1, 1)).update(tenant_id=2), "shapes.TenantItem", "tenant_id"
    )
    assert m.TenantItem.objects.get(pk=(1, 1)).name == "renamed"
    pair = m.Pair.objects.create(left=1, right=2)
    pair.right = 3
    pair.note = "moved"
    pair.save()
    assert list(m.Pair.objects.values_list("pk", "left", "right", "note")) == [(pair.pk, 1, 3, "moved")]
    user = User.objects.create_user("alice", password="pw")
    user.username = "alicia"
    user.save()
    assert User.objects.get(pk=user.pk).username == "alicia"
    assert User.objects.filter(pk=user.pk).update(username="ally") == 1
    assert User.objects.get(pk=user.pk).username == "ally"
    cmd.ok("shard key updates")

    # Many-to-many: the auto-created through table keeps its id.
    a1, a2 = m.Author.objects.create(name="a1"), m.Author.objects.create(name="a2")
    book = m.Book.objects.create(title="t")
    book.authors.add(a1, a2)
    through = m.Book.authors.through
    assert sorted(through.objects.filter(book=book).values_list("author_id", flat=True)) == sorted(
        [a1.pk, a2.pk]
    )
    assert all(through.objects.values_list("id", flat=True))
    assert list(a1.books.all()) == [book]
    book.authors.remove(a2)
    assert list(book.authors.all()) == [a1]
    book.authors.set([a2])
    assert list(book.authors.all()) == [a2]
    page, paragraph = m.Page.objects.create(number=1), m.Paragraph.objects.create(text="p")
    paragraph.pages.add(page)
    assert m.ParagraphPage.objects.get(paragraph=paragraph).page == page
    assert list(page.paragraph_set.all()) == [paragraph]
    profile = m.Profile.objects.create(user=user, bio="b")
    assert User.objects.get(pk=user.pk).profile == profile
    cmd.ok("many-to-many and one-to-one")

    # dumpdata / loaddata: the auto-created through rows travel with Book, the explicit through model
    # is a model of its own.
    labels = ["shapes.author", "shapes.book", "shapes.page", "shapes.paragraph", "shapes.paragraphpage"]
    out = io.StringIO()
    call_command("dumpdata", *labels, stdout=out)
    dumped = json.loads(out.getvalue())
    assert [row["fields"]["authors"] for row in dumped if row["model"] == "shapes.book"] == [[a2.pk]]
    m.Book.objects.all().delete()
    m.ParagraphPage.objects.all().delete()
    assert not through.objects.exists() and not m.ParagraphPage.objects.exists()
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        f.write(json.dumps(dumped))
        f.flush()
        call_command("loaddata", f.name, verbosity=0)
    assert list(m.Book.objects.get(pk=book.pk).authors.all()) == [a2]
    assert list(m.Paragraph.objects.get(pk=paragraph.pk).pages.all()) == [page]
    cmd.ok("dumpdata loaddata")

    # The admin: change views POSTed by a logged-in superuser.
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "renamed-by-admin",
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2024-01-01",
            "initial-date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    assert User.objects.get(pk=user.pk).username == "renamed-by-admin"
    response = client.post(f"/admin/shapes/tagged/{tagged.pk}/change/", {"slug": "from-admin", "title": "t"})
    assert response.status_code == 302, response.content[:3000]
    assert m.Tagged.objects.get(pk=tagged.pk).slug == "from-admin"
    response = client.post(
        f"/admin/shapes/book/{book.pk}/change/", {"title": "t2", "authors": [a1.pk, a2.pk]}
    )
    assert response.status_code == 302, response.content[:3000]
    assert sorted(m.Book.objects.get(pk=book.pk).authors.values_list("pk", flat=True)) == sorted(
        [a1.pk, a2.pk]
    )
    cmd.ok("admin")

    if cmd.role == "child":
        # Child aggregators hand out AUTO_INCREMENT ids above 2**50; every lookup and FK column takes them.
        assert plain.pk > 2**50 and user.pk > 2**50, (plain.pk, user.pk)
        assert m.Profile.objects.get(user_id=user.pk).pk == profile.pk
        assert m.Plain.objects.filter(pk__in=[plain.pk]).count() == 1
        cmd.ok("ids above 2**50")
        # What stays sharded (everything above, the contrib apps) writes inside transactions; a
        # reference table (Food declares one) is refused there by a child aggregator (2549).
        from django.db import transaction

        from django_singlestore.errors import ReferenceTableWriteOnChildAggregator

        with transaction.atomic():
            m.Tagged.objects.create(slug="in-atomic")
        try:
            with transaction.atomic():
                m.Food.objects.create(name="in-atomic")
        except ReferenceTableWriteOnChildAggregator:
            pass
        else:
            raise AssertionError("a reference-table write inside atomic() passed on a child aggregator")
        cmd.ok("reference tables and transactions")

    migrate_to_zero(cmd)


SCENARIOS: dict[str, Callable[[Command], None]] = {"contrib": contrib, "shapes": shapes}
