from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "helpline.core"
    label = "core"

    def ready(self) -> None:
        from helpline.core import outbox
        from helpline.core.tasks import on_tick

        on_tick(outbox.outbox_tick)
