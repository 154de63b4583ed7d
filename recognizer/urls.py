from django.urls import path

from recognizer import views

urlpatterns = [
    path("", views.home, name="home"),
]
