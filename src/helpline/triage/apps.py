from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "helpline.triage"
    label = "triage"
