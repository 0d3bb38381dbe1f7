from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "helpline.triage"
    label = "triage"
    verbose_name = "Triage"

    def ready(self) -> None:
        from helpline.triage import conf, handlers

        conf.load()  # a bad HELPLINE_TRIAGE_* value fails at start-up, not on the first message
        handlers.register()
