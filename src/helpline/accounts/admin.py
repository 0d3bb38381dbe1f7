from django.contrib import admin

from helpline.accounts.models import ApiToken, Team, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ("email", "name", "role", "restricted_to_teams", "is_active")
    list_filter = ("role", "is_active", "teams")
    search_fields = ("email", "name")
    exclude = ("password",)
    filter_horizontal = ("teams",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
