from django.apps import AppConfig


class EmailConnectorConfig(AppConfig):
    name = "helpline.connectors.email"
    label = "email_connector"
