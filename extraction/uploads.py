"""An upload handler that stops reading a request body past MAX_UPLOAD_BYTES.

Django's own handlers would spool any amount of data to a temporary file before a view runs.
This one goes first in FILE_UPLOAD_HANDLERS: it refuses at once when the declared Content-Length
is already over the limit, and stops the upload as soon as the file data crosses it. It marks
the request (`upload_too_large`) so that the API and the admin answer with `too_large` instead of
"no file".
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Room for the multipart framing and small form fields around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
FLAG = "upload_too_large"


def upload_limit_bytes() -> int:
    return settings.MAX_UPLOAD_BYTES


def request_upload_too_large(request) -> bool:
    """True when the upload handler (or Content-Length) found the body over the limit."""
    if getattr(request, FLAG, False):
        return True
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > upload_limit_bytes() + MULTIPART_OVERHEAD_BYTES


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def _refuse(self, *, connection_reset: bool):
        if self.request is not None:
            setattr(self.request, FLAG, True)
        raise StopUpload(connection_reset=connection_reset)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        declared_too_large = (content_length or 0) > upload_limit_bytes() + MULTIPART_OVERHEAD_BYTES
        if declared_too_large and self.request is not None:
            # Remember it now; the upload is stopped when the first file part starts, so the small
            # fields before it (the admin's CSRF token) are still read.
            setattr(self.request, FLAG, True)
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.request is not None and getattr(self.request, FLAG, False):
            # Declared too large: stop without reading the rest of the body.
            self._refuse(connection_reset=True)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > upload_limit_bytes():
            # The body is within the declared limit plus overhead here, so draining what is left
            # is cheap and lets the client read the answer.
            self._refuse(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
