"""Out-of-the-box reply targets per channel, 24/7, for every priority: email and web form 24 h,
social 1 h, live chat 2 min, phone 1 min. Positioned last so any policy an admin adds wins."""

from django.db import migrations

DEFAULTS = [
    ("Email (default)", "email", 24 * 60),
    ("Web form (default)", "web", 24 * 60),
    ("Social (default)", "social", 60),
    ("Live chat (default)", "chat", 2),
    ("Phone (default)", "phone", 1),
]
PRIORITIES = ["low", "normal", "high", "urgent"]


def create_defaults(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaTarget = apps.get_model("sla", "SlaTarget")
    for offset, (name, channel, minutes) in enumerate(DEFAULTS):
        policy, created = SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "position": 1000 + offset,
                "channels": [channel],
                "pausing_statuses": ["pending", "on_hold"],
                "warn_share": 0.75,
            },
        )
        if not created:
            continue
        SlaTarget.objects.bulk_create(
            SlaTarget(
                policy=policy,
                priority=priority,
                first_response_minutes=minutes,
                next_response_minutes=minutes,
                resolution_minutes=None,
            )
            for priority in PRIORITIES
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(name__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
