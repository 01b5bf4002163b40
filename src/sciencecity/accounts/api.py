from ninja import Router, Schema

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]


@router.get("/me", response=MeOut, summary="The authenticated user")
def me(request):
    user = request.auth
    return {"id": user.pk, "username": user.username, "display_name": user.display_name,
            "roles": sorted(user.role_set())}
