from django.db import models


class IdentityKind(models.TextChoices):
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"
    CHAT = "chat", "Chat visitor"
    SOCIAL = "social", "Social handle"


class Channel(models.TextChoices):
    """Where a conversation happens. Shared by customers (preference) and tickets (origin)."""

    EMAIL = "email", "Email"
    CHAT = "chat", "Live chat"
    WEB = "web", "Web form"
    PHONE = "phone", "Phone"
    SOCIAL = "social", "Social"
    API = "api", "API"


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
