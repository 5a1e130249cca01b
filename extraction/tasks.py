"""django-q2 tasks: thin wrappers over services (a task loads ids and calls one service)."""

from extraction.services.batch_ingest import extraction_batches_poll
from extraction.services.batches import extraction_batches_submit
from extraction.services.execution import extraction_run_execute
from extraction.services.files import uploaded_files_delete_remote
from extraction.services.sweeper import extraction_runs_sweep


def run_extraction(run_id: str) -> str:
    return extraction_run_execute(run_id=run_id)


def sweep_stale_runs() -> dict:
    return extraction_runs_sweep()


def delete_remote_files(ids: list[int]) -> int:
    return uploaded_files_delete_remote(ids=ids)


def poll_batches() -> dict:
    return extraction_batches_poll()


def submit_batches(run_ids: list[str]) -> int:
    return len(extraction_batches_submit(run_ids=run_ids))
