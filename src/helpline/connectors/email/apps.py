from django.apps import AppConfig


class EmailConnectorConfig(AppConfig):
    name = "helpline.connectors.email"
    label = "email_connector"
    verbose_name = "Email"

    def ready(self) -> None:
        from helpline.connectors.email import handlers, tasks  # noqa: F401 - registers tasks
        from helpline.connectors.email.conf import email_config

        email_config()
        handlers.register()
