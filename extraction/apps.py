from django.apps import AppConfig


class ExtractionConfig(AppConfig):
    name = "extraction"
    verbose_name = "Extraction"

    def ready(self):
        from extraction import queue
        from extraction.health import queue_check
        from extraction.model_users import profile_model_users, runs_per_model
        from llm.model_users import register, register_usage
        from remorai.health import READINESS_CHECKS

        READINESS_CHECKS["queue"] = queue_check
        register(profile_model_users)
        register_usage(runs_per_model)
        queue.sweep_when_a_worker_starts()
