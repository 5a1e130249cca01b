"""The bodies of the extraction API's own errors, for the OpenAPI schema (remorai.errors renders
them: {"code", "detail"} and the fields of each code). `code` stays a plain string so that a
client generated from the schema accepts a code added later."""

from rest_framework import serializers

from remorai.schema import ErrorSerializer


class ExtractionInProgressErrorSerializer(ErrorSerializer):
    active_run_id = serializers.UUIDField(
        required=False,
        help_text="The queued or running run of this document and profile (absent only when "
        "it ended in the meantime).",
    )


class ExtractionRequestErrorSerializer(ErrorSerializer):
    profile = serializers.CharField(required=False, help_text="With `unknown_profile`.")
    model = serializers.CharField(
        required=False, help_text="With `unknown_model` and `model_retired`."
    )
    retired_on = serializers.DateField(
        required=False, help_text="With `model_retired`: the day the model was retired."
    )
    replacement = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="With `model_retired`: the model to ask for instead (null when none).",
    )
    known = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="With `unknown_model`: the models that can be asked for.",
    )


class ExtractionFinishedErrorSerializer(ErrorSerializer):
    status = serializers.CharField(help_text="How the run ended: `succeeded` or `failed`.")
