from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "helpline.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from helpline.routing import handlers

        handlers.register()
