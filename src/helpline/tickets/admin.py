from django.contrib import admin

from helpline.tickets.models import Message, Tag, Ticket, TicketEvent


class MessageInline(admin.StackedInline[Message, Ticket]):
    model = Message
    extra = 0
    fields = ("direction", "channel", "author_user", "author_customer", "body_text", "created_at")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    list_display = ("id", "subject", "status", "priority", "channel", "assignee", "updated_at")
    list_filter = ("status", "priority", "channel", "team")
    search_fields = ("subject",)
    raw_id_fields = ("customer", "assignee")
    inlines = (MessageInline,)


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin[TicketEvent]):
    list_display = ("ticket", "kind", "actor", "created_at")
    raw_id_fields = ("ticket",)

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


admin.site.register(Tag)
