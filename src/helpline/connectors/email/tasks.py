"""Thin task wrappers: ids in, one service call, idempotent."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from helpline.connectors.email import services


@db_task()  # type: ignore[untyped-decorator]
def email_deliver(outbound_id: int) -> str:
    return services.outbound_deliver(outbound_id=outbound_id)


@db_task()  # type: ignore[untyped-decorator]
def email_process(inbound_id: int) -> None:
    from helpline.connectors.email.models import InboundEmail

    row = InboundEmail.objects.filter(pk=inbound_id).first()
    if row is not None:
        services.inbound_process(inbound=row)
