from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "helpline.customers"
    label = "customers"
