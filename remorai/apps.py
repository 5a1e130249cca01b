from django.apps import AppConfig


class RemoraiConfig(AppConfig):
    name = "remorai"
    verbose_name = "Remorai"
