from django.urls import path

from sciencecity.facilities import views
from sciencecity.facilities.beamtime.urls import urlpatterns as beamtime_urlpatterns

app_name = "facilities"
urlpatterns = [
    path("", views.instrument_list, name="index"),
    path("instruments/new/", views.instrument_new, name="instrument_new"),
    path("instruments/<str:code>/edit/", views.instrument_edit, name="instrument_edit"),
    path("instruments/<str:code>/", views.instrument_detail, name="instrument_detail"),
    path("instruments/<str:code>/photo/", views.instrument_photo, name="instrument_photo"),
    path("instruments/<str:code>/calendar.ics", views.instrument_ical, name="instrument_ical"),
    path("bookings/", views.my_bookings, name="my_bookings"),
    path("bookings/<int:pk>/<str:action>/", views.booking_action, name="booking_action"),
    path("usage/<int:pk>/pay/", views.usage_pay, name="usage_pay"),
    path("statements/<int:organisation_id>/<str:month>/", views.statement, name="statement"),
    path("vouchers/", views.voucher_index, name="vouchers"),
    path("vouchers/schemes/new/", views.scheme_edit, name="scheme_new"),
    path("vouchers/schemes/<str:code>/edit/", views.scheme_edit, name="scheme_edit"),
    path("vouchers/settle/", views.voucher_settle, name="voucher_settle"),
    path("vouchers/<str:code>/decide/", views.voucher_decide, name="voucher_decide"),
    path("openness/", views.openness, name="openness"),
]
urlpatterns += beamtime_urlpatterns
