"""The agent UI, one module per area. Each module ends with its own ``urlpatterns``, which
``web/urls.py`` includes with one line."""
