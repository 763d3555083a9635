"""Background work, through Django's task API. The queue only speeds things up: a task that is
lost leaves its delivery `received`, and pipeline.sweep finds it."""

from django.tasks import task

from wiredesk.desk import pipeline


@task
def process_delivery(delivery_id: int) -> list[dict]:
    return [result.as_dict() for result in pipeline.process_waiting(delivery_id)]
