"""The intake service: every real PDF, every awkward one, hostile inputs, memory, dedupe."""

import hashlib
import io
import tracemalloc
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile

from extraction.errors import PdfUnreadable
from extraction.models import Document
from extraction.services import intake
from extraction.services.intake import document_ingest, sanitize_filename
from remorai.errors import ApplicationError
from tests import pdfgen
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MANIFEST = pdfgen.manifest_rows()
ACCEPTED = [
    (row["file"], int(row["pages"]))
    for row in MANIFEST
    if row["file"].startswith(("good/", "truth/")) and row["file"].endswith(".pdf")
]

# Every file in bad/: what intake answers. (status, code) for rejections; (201, pages,
# is_encrypted) for files that are awkward but readable.
BAD_EXPECTED = {
    "AmazonWebServices-truncated-60pct.pdf": ("reject", 422, "pdf_unreadable"),
    "autoprint.pdf": ("accept", 1, False),  # document-level JavaScript: stored, never run
    "bad1.pdf": ("reject", 415, "not_pdf"),
    "bad3.pdf": ("accept", 1, False),  # broken xref offset, reconstructed
    "corrupt-factur-x-waytoosmall.pdf": ("reject", 422, "pdf_unreadable"),
    "dmca.pdf": ("accept", 18, True),  # RC4-40, empty user password
    "doc_actions.pdf": ("accept", 3, False),  # JavaScript actions
    "empty.pdf": ("reject", 400, "empty_file"),
    "libreoffice-writer-password.pdf": ("reject", 422, "pdf_encrypted"),
    "malformed-from-issue-932.pdf": ("accept", 1, False),
    "password-example.pdf": ("reject", 422, "pdf_encrypted"),
    "pr-138-example.pdf": ("accept", 2, True),  # RC4-128 crypt filter, empty user password
    "xref_command_missing.pdf": ("accept", 1, False),
}


@pytest.fixture
def owner():
    return UserFactory()


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def upload(data: bytes, name: str = "upload.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def assert_nothing_left(storage_dir, temp_dir):
    assert Document.objects.count() == 0
    assert files_under(storage_dir) == []
    assert files_under(temp_dir) == []


def test_manifest_lists_every_shared_pdf():
    listed = {row["file"] for row in MANIFEST}
    on_disk = {
        f"{p.parent.name}/{p.name}"
        for folder in ("good", "truth", "bad")
        for p in (pdfgen.PDFS / folder).glob("*.pdf")
    }
    assert on_disk <= listed
    assert len(ACCEPTED) >= 30
    assert set(BAD_EXPECTED) == {p.name for p in (pdfgen.PDFS / "bad").iterdir()}


@pytest.mark.parametrize(("relative", "pages"), ACCEPTED, ids=[a for a, _ in ACCEPTED])
def test_real_pdf_is_accepted_with_manifest_page_count(relative, pages, owner, storage_dir):
    path = pdfgen.PDFS / relative
    with open(path, "rb") as stream:
        document, created = document_ingest(owner=owner, upload=File(stream, name=path.name))

    assert created
    assert document.page_count == pages
    assert document.size_bytes == path.stat().st_size
    assert document.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert document.original_name == path.name
    assert not document.is_encrypted
    with document.file.open("rb") as stored:
        assert stored.read() == path.read_bytes()


@pytest.mark.parametrize("name", sorted(BAD_EXPECTED))
def test_awkward_pdf_gets_its_expected_outcome(name, owner, storage_dir, temp_dir):
    path = pdfgen.PDFS / "bad" / name
    kind, *expected = BAD_EXPECTED[name]
    if kind == "reject":
        status, code = expected
        with pytest.raises(ApplicationError) as caught, open(path, "rb") as stream:
            document_ingest(owner=owner, upload=File(stream, name=name))
        assert (caught.value.status_code, caught.value.code) == (status, code)
        assert_nothing_left(storage_dir, temp_dir)
    else:
        pages, encrypted = expected
        with open(path, "rb") as stream:
            document, created = document_ingest(owner=owner, upload=File(stream, name=name))
        assert created
        assert (document.page_count, document.is_encrypted) == (pages, encrypted)
        assert files_under(temp_dir) == []


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128", "AES-256-R5"])
def test_encrypted_with_empty_user_password_is_accepted_and_flagged(algorithm, owner):
    data = pdfgen.encrypted_pdf(algorithm=algorithm, user_password="")
    document, created = document_ingest(owner=owner, upload=upload(data))
    assert created
    assert document.is_encrypted
    assert document.page_count == 2
    assert document.pdf_metadata["encryption"]["method"].startswith(algorithm[:3])


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128"])
def test_encrypted_with_a_user_password_is_refused(algorithm, owner, storage_dir, temp_dir):
    data = pdfgen.encrypted_pdf(algorithm=algorithm, user_password="open-sesame")
    with pytest.raises(ApplicationError) as caught:
        document_ingest(owner=owner, upload=upload(data))
    assert (caught.value.status_code, caught.value.code) == (422, "pdf_encrypted")
    assert_nothing_left(storage_dir, temp_dir)


def test_page_tree_claiming_millions_counts_only_real_pages(owner):
    data = pdfgen.page_count_claim_pdf(5_000_000)
    document, _ = document_ingest(owner=owner, upload=upload(data))
    assert document.page_count == 1


def test_page_tree_reaching_a_million_leaves_is_refused_quickly(owner, storage_dir, temp_dir):
    data = pdfgen.page_tree_bomb_pdf(fanout=1000)  # ~12 KB, 1,000,000 leaves
    assert len(data) < 20_000
    with pytest.raises(ApplicationError) as caught:
        document_ingest(owner=owner, upload=upload(data))
    assert (caught.value.status_code, caught.value.code) == (422, "too_many_pages")
    assert_nothing_left(storage_dir, temp_dir)


def test_cyclic_page_tree_is_unreadable(owner, storage_dir, temp_dir):
    with pytest.raises(PdfUnreadable):
        document_ingest(owner=owner, upload=upload(pdfgen.cyclic_page_tree_pdf()))
    assert_nothing_left(storage_dir, temp_dir)


def test_pdf_without_pages_is_unreadable(owner):
    with pytest.raises(PdfUnreadable):
        document_ingest(owner=owner, upload=upload(pdfgen.zero_page_pdf()))


def test_more_pages_than_the_limit_is_refused(owner, settings, storage_dir, temp_dir):
    settings.MAX_PDF_PAGES = 3
    with pytest.raises(ApplicationError) as caught:
        document_ingest(owner=owner, upload=upload(pdfgen.blank_pdf(pages=4)))
    assert (caught.value.status_code, caught.value.code) == (422, "too_many_pages")
    assert_nothing_left(storage_dir, temp_dir)
    document, _ = document_ingest(owner=owner, upload=upload(pdfgen.blank_pdf(pages=3)))
    assert document.page_count == 3


def test_junk_before_the_signature_is_accepted_within_1024_bytes(owner):
    data = b"\x00junk from a mail gateway\r\n" * 30 + pdfgen.blank_pdf(pages=2)
    assert data.index(b"%PDF-") < 1024
    document, _ = document_ingest(owner=owner, upload=upload(data))
    assert document.page_count == 2
    assert document.pdf_metadata["pdf_version"] == "1.3"
    assert document.size_bytes == len(data)  # stored as sent, junk included


def test_signature_past_1024_bytes_is_not_a_pdf(owner, storage_dir, temp_dir):
    data = b"x" * 1024 + pdfgen.blank_pdf()
    with pytest.raises(ApplicationError) as caught:
        document_ingest(owner=owner, upload=upload(data))
    assert (caught.value.status_code, caught.value.code) == (415, "not_pdf")
    assert_nothing_left(storage_dir, temp_dir)


def test_signature_split_across_chunks_is_found(owner, monkeypatch):
    monkeypatch.setattr(intake, "CHUNK_BYTES", 7)
    data = b"abcde" + pdfgen.blank_pdf()  # "%PDF-" straddles the first two 7-byte chunks
    document, _ = document_ingest(owner=owner, upload=upload(data))
    assert document.page_count == 1


def test_over_the_size_limit_is_refused_and_stops_reading(owner, settings, storage_dir, temp_dir):
    settings.MAX_UPLOAD_BYTES = 64 * 1024
    read = []

    class Endless:
        """A never-ending upload that records how much was asked of it."""

        name = "endless.pdf"
        size = None

        def chunks(self, chunk_size):
            yield b"%PDF-1.7\n"
            while True:
                read.append(chunk_size)
                yield b"\0" * chunk_size

    with pytest.raises(ApplicationError) as caught:
        document_ingest(owner=owner, upload=Endless())
    assert (caught.value.status_code, caught.value.code) == (413, "too_large")
    assert sum(read) <= 2 * 64 * 1024
    assert_nothing_left(storage_dir, temp_dir)


def test_declared_size_over_the_limit_is_refused_before_reading(owner, settings):
    settings.MAX_UPLOAD_BYTES = 1000

    class Declared:
        name = "declared.pdf"
        size = 1001

        def chunks(self, chunk_size):
            raise AssertionError("read although its declared size is over the limit")

    with pytest.raises(ApplicationError) as caught:
        document_ingest(owner=owner, upload=Declared())
    assert caught.value.code == "too_large"


def test_fifty_mib_upload_is_never_held_whole_in_memory(owner, tmp_path, storage_dir, temp_dir):
    path = pdfgen.write_large_pdf(tmp_path / "big.pdf", 50 * 1024 * 1024)
    tracemalloc.start()
    try:
        with open(path, "rb") as stream:
            document, created = document_ingest(owner=owner, upload=File(stream, name="big.pdf"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert created and document.page_count == 1
    assert document.size_bytes == path.stat().st_size
    print(f"peak {peak / 2**20:.2f} MiB")
    assert peak < 10 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert files_under(temp_dir) == []


def with_broken_startxref(path: Path) -> Path:
    """Point startxref at nothing (in place, streaming): readers must rebuild the xref table."""
    with open(path, "r+b") as pdf:
        pdf.seek(-64, 2)
        tail = pdf.read()
        at = tail.rindex(b"startxref")
        pdf.seek(-64 + at, 2)
        pdf.write(b"startxref\n9\n%%EOF\n")
        pdf.truncate()
    return path


def prefixed(path: Path, junk: bytes) -> Path:
    target = path.with_name("junk-" + path.name)
    with open(path, "rb") as source, open(target, "wb") as out:
        out.write(junk)
        while chunk := source.read(1 << 20):
            out.write(chunk)
    return target


def ingest_measured(owner, path: Path):
    tracemalloc.start()
    try:
        with open(path, "rb") as stream:
            result = document_ingest(owner=owner, upload=File(stream, name=path.name))
        return result, tracemalloc.get_traced_memory()[1]
    except ApplicationError as exc:
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fifty_mib_with_leading_junk_is_read_without_repair(owner, tmp_path):
    big = pdfgen.write_large_pdf(tmp_path / "big.pdf", 50 * 1024 * 1024)
    (document, created), peak = ingest_measured(owner, prefixed(big, b"X-Scanner: 1\r\n" * 20))
    assert created and document.page_count == 1
    assert document.pdf_metadata["pdf_version"] == "1.7"
    assert peak < 10 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


def test_large_pdf_needing_xref_repair_is_refused_without_reading_it_whole(
    owner, tmp_path, storage_dir, temp_dir
):
    big = with_broken_startxref(pdfgen.write_large_pdf(tmp_path / "big.pdf", 50 * 1024 * 1024))
    error, peak = ingest_measured(owner, big)
    assert (error.status_code, error.code) == (422, "pdf_unreadable")
    assert "repair" in error.detail
    assert peak < 10 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert_nothing_left(storage_dir, temp_dir)


def test_small_pdf_needing_xref_repair_is_repaired(owner, tmp_path):
    small = with_broken_startxref(pdfgen.write_large_pdf(tmp_path / "small.pdf", 2 * 1024 * 1024))
    (document, created), _ = ingest_measured(owner, small)
    assert created and document.page_count == 1


def test_same_owner_same_bytes_returns_the_existing_document(owner, storage_dir):
    data = pdfgen.blank_pdf(marker="dedupe")
    first, created = document_ingest(owner=owner, upload=upload(data, "a.pdf"))
    again, created_again = document_ingest(owner=owner, upload=upload(data, "b.pdf"))
    assert created and not created_again
    assert again.id == first.id and again.original_name == "a.pdf"
    assert Document.objects.count() == 1
    assert len(files_under(storage_dir)) == 1


def test_same_bytes_for_another_owner_is_a_new_document(owner):
    data = pdfgen.blank_pdf(marker="two owners")
    mine, _ = document_ingest(owner=owner, upload=upload(data))
    theirs, created = document_ingest(owner=UserFactory(), upload=upload(data))
    assert created and theirs.id != mine.id


def test_losing_a_race_on_the_unique_constraint_returns_the_winner(
    owner, monkeypatch, storage_dir, temp_dir
):
    """Another request stores the same bytes between our dedupe check and our insert."""
    data = pdfgen.blank_pdf(marker="race")
    real_inspect = intake.pdf_inspect
    winner = {}

    def inspect_while_another_request_wins(stream, **kwargs):
        info = real_inspect(stream, **kwargs)
        monkeypatch.setattr(intake, "pdf_inspect", real_inspect)
        winner["document"], _ = document_ingest(owner=owner, upload=upload(data, "winner.pdf"))
        return info

    monkeypatch.setattr(intake, "pdf_inspect", inspect_while_another_request_wins)
    document, created = document_ingest(owner=owner, upload=upload(data, "loser.pdf"))

    assert not created
    assert document.id == winner["document"].id
    assert Document.objects.count() == 1
    assert [p.name for p in files_under(storage_dir)] == [Path(document.file.name).name]
    assert files_under(temp_dir) == []


def test_storage_key_is_generated_and_name_kept_as_data(owner):
    document, _ = document_ingest(owner=owner, upload=upload(pdfgen.blank_pdf(), "../../x.pdf"))
    assert document.file.name == f"documents/{document.id.hex[:2]}/{document.id.hex}.pdf"
    assert document.original_name == "x.pdf"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\report.pdf", "report.pdf"),
        ("invoice\x00.pdf", "invoice.pdf"),
        ("bad\r\nname\t.pdf", "badname.pdf"),
        ("..", "document.pdf"),
        ("", "document.pdf"),
        ("dir/", "document.pdf"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
        ("b" * 300, "b" * 255),
    ],
)
def test_client_file_name_is_sanitised(given, kept):
    assert sanitize_filename(given) == kept
    assert len(sanitize_filename(given)) <= 255


def test_metadata_is_kept_clean(owner):
    data = pdfgen.blank_pdf(title="Quarterly\x00 report\x07")
    document, _ = document_ingest(owner=owner, upload=upload(data))
    assert document.pdf_metadata["title"] == "Quarterly report"
    assert document.pdf_metadata["producer"] == "remorai tests"
    assert document.pdf_metadata["pdf_version"] == "1.3"


def test_plain_file_objects_work_too(owner):
    document, _ = document_ingest(owner=owner, upload=File(io.BytesIO(pdfgen.blank_pdf()), "x.pdf"))
    assert document.page_count == 1
