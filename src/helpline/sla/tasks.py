"""The SLA's periodic job: raise the warnings, breaches and slipped promises that fell due."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

from helpline.core.tasks import on_tick
from helpline.sla.services import notification_emails_send, sla_check, sla_recompute_active

logger = logging.getLogger(__name__)


@on_tick
def sla_tick() -> None:
    result = sla_check()
    if result.rows:
        logger.info("SLA check: %d rows in %.3f s", result.rows, result.seconds)
    notification_emails_send()


@db_task()  # type: ignore[untyped-decorator]
def recompute_active_task() -> None:
    """After a policy or calendar change: recompute every active ticket's clocks."""
    count = sla_recompute_active()
    logger.info("SLA recompute after configuration change: %d tickets", count)
