"""Thin task wrappers: ids in, one service call, idempotent."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from helpline.triage import services


@db_task(retries=2, retry_delay=10)  # type: ignore[untyped-decorator]
def triage_message(message_id: int) -> None:
    services.message_triage(message_id=message_id)


@db_task()  # type: ignore[untyped-decorator]
def retrain_intent_model() -> None:
    services.intent_model_retrain()
