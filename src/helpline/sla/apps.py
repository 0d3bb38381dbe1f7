from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "helpline.sla"
    label = "sla"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from helpline.sla import handlers, tasks  # noqa: F401

        handlers.register()
