from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = "LLM layer"

    def ready(self):
        from llm import checks  # noqa: F401 - registers the system checks
        from llm.health import register_readiness

        register_readiness()
