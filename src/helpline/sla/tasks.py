"""The SLA's periodic job: raise the warnings, breaches and slipped promises that fell due."""

from __future__ import annotations

import logging

from helpline.core.tasks import on_tick
from helpline.sla.services import sla_check

logger = logging.getLogger(__name__)


@on_tick
def sla_tick() -> None:
    result = sla_check()
    if result.rows:
        logger.info("SLA check: %d rows in %.3f s", result.rows, result.seconds)
