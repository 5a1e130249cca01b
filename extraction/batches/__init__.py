"""Provider batch jobs for bulk re-extraction (#16): the ExtractionBatch model; the services are
extraction/services/batches.py (submit) and extraction/services/batch_ingest.py (poll, collect)."""
