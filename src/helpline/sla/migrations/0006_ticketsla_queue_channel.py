"""The channel whose reply queue a ticket waits in, on its SLA row (kept by sla.services), filled
for the existing rows with one UPDATE, and the two indexes the place in a queue is counted on."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

QUEUED = ("new", "open")


def fill_queue_channel(apps, schema_editor):
    TicketSla = apps.get_model("sla", "TicketSla")
    Ticket = apps.get_model("tickets", "Ticket")
    if schema_editor.connection.vendor == "postgresql":
        sla, ticket = TicketSla._meta.db_table, Ticket._meta.db_table
        schema_editor.execute(
            f"UPDATE {sla} AS s SET queue_channel = t.channel FROM {ticket} AS t "
            "WHERE t.id = s.ticket_id AND s.reply_owed_since IS NOT NULL "
            "AND t.status = ANY(%s)",
            [list(QUEUED)],
        )
        schema_editor.execute(f"ANALYZE {sla}")  # autovacuum may be off (the bench database)
        return
    queued = Ticket.objects.filter(pk=OuterRef("ticket_id"), status__in=QUEUED)
    TicketSla.objects.filter(reply_owed_since__isnull=False).update(
        queue_channel=Subquery(queued.values("channel")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ('sla', '0005_ticketsla_team'),
        ('tickets', '0007_message_reply_time_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticketsla',
            name='queue_channel',
            field=models.CharField(blank=True, editable=False, max_length=10, null=True),
        ),
        migrations.RunPython(fill_queue_channel, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='ticketsla',
            index=models.Index(condition=models.Q(('queue_channel__isnull', False)), fields=['queue_channel', 'team', 'next_due_at', 'ticket'], name='sla_queue_due'),
        ),
        migrations.AddIndex(
            model_name='ticketsla',
            index=models.Index(condition=models.Q(('queue_channel__isnull', False)), fields=['queue_channel', 'team', 'reply_owed_since', 'ticket'], name='sla_queue_owed'),
        ),
    ]
