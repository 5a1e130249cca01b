"""Documents in the admin: pages render, uploads go through intake, errors are form errors."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from extraction.models import Document
from tests import pdfgen
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:extraction_document_changelist")
ADD = reverse("admin:extraction_document_add")


def change_url(document):
    return reverse("admin:extraction_document_change", args=[document.pk])


def test_changelist_renders_with_search_and_filters(admin_client):
    DocumentFactory(original_name="needle.pdf", page_count=7)
    DocumentFactory(original_name="hay.pdf", is_encrypted=True)
    page = admin_client.get(CHANGELIST)
    assert page.status_code == 200
    assert b"needle.pdf" in page.content and b"hay.pdf" in page.content

    found = admin_client.get(CHANGELIST, {"q": "needle"})
    assert b"needle.pdf" in found.content and b"hay.pdf" not in found.content
    encrypted = admin_client.get(CHANGELIST, {"is_encrypted__exact": "1"})
    assert b"hay.pdf" in encrypted.content and b"needle.pdf" not in encrypted.content


def test_changelist_query_count_is_constant(admin_client, django_assert_max_num_queries):
    DocumentFactory.create_batch(3)
    with django_assert_max_num_queries(20) as few:
        admin_client.get(CHANGELIST)
    DocumentFactory.create_batch(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(CHANGELIST)


def test_change_page_shows_hashes_and_metadata_read_only(admin_client):
    document = DocumentFactory(pdf_metadata={"producer": "Acme <PDF>", "pdf_version": "1.7"})
    page = admin_client.get(change_url(document))
    assert page.status_code == 200
    html = page.content.decode()
    assert document.sha256 in html
    assert "Acme &lt;PDF&gt;" in html  # escaped
    assert 'name="sha256"' not in html  # read-only, not an input


def test_admin_download_serves_the_pdf(admin_client):
    document = DocumentFactory()
    url = reverse("admin:extraction_document_file", kwargs={"document_id": document.id})
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_add_page_renders_an_upload_form(admin_client):
    page = admin_client.get(ADD)
    assert page.status_code == 200
    assert b'type="file"' in page.content and b'name="upload"' in page.content


def test_admin_upload_goes_through_intake(admin_client, admin_user):
    data = (pdfgen.PDFS / "good" / "2023-06-20-PV.pdf").read_bytes()
    response = admin_client.post(
        ADD, {"owner": admin_user.pk, "upload": SimpleUploadedFile("../pv.pdf", data)}
    )
    document = Document.objects.get()
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert (document.owner, document.page_count, document.original_name) == (
        admin_user,
        2,
        "pv.pdf",
    )


def test_admin_upload_of_the_same_bytes_shows_the_existing_document(admin_client, admin_user):
    data = pdfgen.blank_pdf(marker="admin-dedupe")
    for name in ("first.pdf", "second.pdf"):
        response = admin_client.post(
            ADD, {"owner": admin_user.pk, "upload": SimpleUploadedFile(name, data)}, follow=True
        )
    assert Document.objects.count() == 1
    assert b"already uploaded" in response.content


def test_validating_the_upload_form_stores_nothing(admin_user, storage_dir):
    from extraction.admin.forms import DocumentUploadForm

    upload = SimpleUploadedFile("kept.pdf", pdfgen.blank_pdf(marker="form-only"))
    form = DocumentUploadForm({"owner": admin_user.pk}, {"upload": upload})
    assert form.is_valid(), form.errors
    assert not Document.objects.exists()
    assert not any(storage_dir.rglob("*.pdf"))


def test_staff_without_the_add_permission_cannot_upload(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    client.force_login(staff)
    upload = SimpleUploadedFile("x.pdf", pdfgen.blank_pdf(marker="no-permission"))
    response = client.post(ADD, {"owner": staff.pk, "upload": upload})
    assert response.status_code == 403
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("bad/bad1.pdf", b"not a PDF"),
        ("bad/password-example.pdf", b"protected by a password"),
        ("bad/empty.pdf", b"empty"),
    ],
)
def test_admin_upload_shows_intake_errors_as_form_errors(
    admin_client, admin_user, relative, message
):
    data = (pdfgen.PDFS / relative).read_bytes()
    response = admin_client.post(
        ADD, {"owner": admin_user.pk, "upload": SimpleUploadedFile("x.pdf", data)}
    )
    assert response.status_code == 200  # the form again, with the error
    assert b"errorlist" in response.content and message in response.content
    assert Document.objects.count() == 0


def test_admin_upload_over_the_limit_is_a_form_error(admin_client, admin_user, settings):
    settings.MAX_UPLOAD_BYTES = 10_000
    data = b"%PDF-1.7\n" + b"\0" * 200_000
    response = admin_client.post(
        ADD, {"owner": admin_user.pk, "upload": SimpleUploadedFile("big.pdf", data)}
    )
    assert response.status_code == 200
    assert b"larger than the limit" in response.content
    assert Document.objects.count() == 0


def test_admin_delete_removes_the_stored_file(admin_client, django_capture_on_commit_callbacks):
    document = DocumentFactory()
    storage, name = document.file.storage, document.file.name
    assert storage.exists(name)
    delete_url = reverse("admin:extraction_document_delete", args=[document.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert not Document.objects.exists()
    assert not storage.exists(name)


# --- ensure_local_admin ------------------------------------------------------------------------


def test_ensure_local_admin_creates_one_admin_and_prints_its_credentials(
    settings, capsys, django_user_model
):
    settings.DEBUG = True
    call_command("ensure_local_admin")
    out = capsys.readouterr().out
    admin = django_user_model.objects.get(is_superuser=True)
    password = out.split("password:")[1].split()[0]
    assert admin.username == "admin" and admin.check_password(password)
    assert admin.auth_token.key in out

    call_command("ensure_local_admin")
    assert "already exists" in capsys.readouterr().out
    assert django_user_model.objects.filter(is_superuser=True).count() == 1


def test_ensure_local_admin_refuses_without_debug(settings, django_user_model):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("ensure_local_admin")
    assert not django_user_model.objects.exists()


def test_ensure_local_admin_does_not_take_over_an_ordinary_user(settings, django_user_model):
    settings.DEBUG = True
    django_user_model.objects.create_user(username="admin", password="pw-ordinary-123")
    with pytest.raises(CommandError, match="--username"):
        call_command("ensure_local_admin")
    call_command("ensure_local_admin", username="root")
    assert django_user_model.objects.get(is_superuser=True).username == "root"
