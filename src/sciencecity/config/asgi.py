import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sciencecity.config.base")
application = get_asgi_application()

from sciencecity.core.warmup import warm_up  # noqa: E402 - after Django is set up

warm_up()
