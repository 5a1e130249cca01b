"""django-q2 tasks of the webhooks: thin (ids in, one service call)."""

from extraction.webhooks.dispatch import webhook_delivery_send
from extraction.webhooks.outbox import webhook_deliveries_sweep


def send_webhook(delivery_id: str) -> str:
    return webhook_delivery_send(delivery_id=delivery_id)


def sweep_webhook_deliveries() -> dict:
    return webhook_deliveries_sweep()
