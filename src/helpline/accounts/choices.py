from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SUPERVISOR = "supervisor", "Supervisor"
    AGENT = "agent", "Agent"
