from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("recognizer.api.urls")),
    path("", include("recognizer.urls")),
]

# A database that cannot be reached answers 503 (JSON under /api/), any other server error the 500 page.
handler500 = "recognizer.views.errors.server_error"
