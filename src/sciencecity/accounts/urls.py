from django.urls import path

from sciencecity.accounts import views, views_admin, views_two_factor

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change_view, name="password_change"),
    path("profile/", views_admin.profile, name="profile"),
    path("two-factor/", views_two_factor.manage, name="two_factor"),
    path("two-factor/setup/", views_two_factor.setup, name="two_factor_setup"),
    path("two-factor/verify/", views_two_factor.verify, name="two_factor_verify"),
    path("two-factor/recovery-codes/", views_two_factor.recovery_codes_regenerate, name="two_factor_recovery_codes"),
    path("two-factor/disable/", views_two_factor.disable, name="two_factor_disable"),
    path("reauthenticate/", views_two_factor.reauthenticate, name="reauthenticate"),
    path("tokens/", views_admin.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views_admin.token_revoke, name="token_revoke"),
    path("acting/", views_admin.acting_organisation_set, name="acting_organisation_set"),
    path("users/", views_admin.user_list, name="user_list"),
    path("users/new/", views_admin.user_create, name="user_create"),
    path("users/<int:pk>/", views_admin.user_detail, name="user_detail"),
    path("administrators/", views_admin.admin_change_list, name="admin_change_list"),
    path("administrators/<int:pk>/decide/", views_admin.admin_change_decide, name="admin_change_decide"),
    path("locks/", views_admin.login_lock_list, name="login_lock_list"),
    path("roles/", views_admin.role_list, name="role_list"),
    path("roles/grant/", views_admin.role_grant, name="role_grant"),
    path("roles/<int:pk>/revoke/", views_admin.role_revoke, name="role_revoke"),
]
