from django.urls import path

from sciencecity.transfer import views_deals, views_listings

app_name = "transfer"
urlpatterns = [
    # listings, matching, feedback, notifications, topic watch (views_listings.py)
    path("", views_listings.index, name="index"),
    path("achievements/", views_listings.achievement_list, name="achievement_list"),
    path("achievements/new/", views_listings.achievement_create, name="achievement_create"),
    path("achievements/<int:pk>/", views_listings.achievement_detail, name="achievement_detail"),
    path("achievements/<int:pk>/edit/", views_listings.achievement_edit, name="achievement_edit"),
    path("demands/", views_listings.demand_list, name="demand_list"),
    path("demands/new/", views_listings.demand_create, name="demand_create"),
    path("demands/<int:pk>/", views_listings.demand_detail, name="demand_detail"),
    path("demands/<int:pk>/edit/", views_listings.demand_edit, name="demand_edit"),
    path("search/", views_listings.search, name="search"),
    path("feedback/", views_listings.feedback, name="feedback"),
    path("notifications/", views_listings.notifications, name="notifications"),
    path("watch/", views_listings.watch_list, name="watch_list"),
    path("watch/<int:pk>/", views_listings.watch_detail, name="watch_detail"),
    # deals, contracts, brokers, incubation (views_deals.py)
    path("deals/", views_deals.deal_list, name="deal_list"),
    path("deals/new/", views_deals.deal_create, name="deal_create"),
    path("deals/<int:pk>/", views_deals.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/<str:action>/", views_deals.deal_action, name="deal_action"),
    path("contracts/", views_deals.contract_list, name="contract_list"),
    path("contracts/new/", views_deals.contract_create, name="contract_create"),
    path("contracts/<int:pk>/file/", views_deals.contract_file, name="contract_file"),
    path("brokers/", views_deals.broker_list, name="broker_list"),
    path("incubation/", views_deals.incubation, name="incubation"),
]
