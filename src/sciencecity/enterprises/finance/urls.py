from django.urls import path

from sciencecity.enterprises.finance import views

urlpatterns = [
    path("finance/", views.finance_index, name="finance_index"),
    path("finance/pipeline/", views.finance_pipeline, name="finance_pipeline"),
    path("finance/products/new/", views.product_create, name="product_create"),
    path("finance/products/<int:pk>/", views.product_detail, name="product_detail"),
    path("finance/products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("finance/needs/new/", views.need_create, name="need_create"),
    path("finance/needs/<int:pk>/", views.need_detail, name="need_detail"),
    path("finance/needs/<int:pk>/request/", views.match_request, name="match_request"),
    path("finance/matches/<int:pk>/", views.match_detail, name="match_detail"),
    path("finance/matches/<int:pk>/<slug:action>/", views.match_action, name="match_action"),
    path("my/financing/", views.my_financing, name="my_financing"),
]
