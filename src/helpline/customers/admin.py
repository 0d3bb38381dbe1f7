from django.contrib import admin

from helpline.customers.models import Customer, CustomerNote, Identity, Order, Organisation


class IdentityInline(admin.TabularInline[Identity, Customer]):
    model = Identity
    extra = 0


class OrderInline(admin.TabularInline[Order, Customer]):
    model = Order
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ("name", "organisation", "language", "created_at")
    search_fields = ("name", "identities__value")
    inlines = (IdentityInline, OrderInline)
    raw_id_fields = ("merged_into", "organisation")


admin.site.register(Organisation)
admin.site.register(CustomerNote)
