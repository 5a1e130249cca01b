"""The extraction admin: one module per page family (documents, runs and their actions, remote
copies, profiles, the dashboard), the forms in forms.py. Importing the package registers them."""

from extraction.admin import batches, documents, files, profiles, runs  # noqa: F401 - registers
from extraction.webhooks import admin as webhooks_admin  # noqa: F401, E402 - registers them
