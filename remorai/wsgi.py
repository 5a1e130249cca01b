import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from remorai.slowbody import BodyPaceMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remorai.settings")
application = BodyPaceMiddleware(
    get_wsgi_application(),
    min_rate=settings.REQUEST_BODY_MIN_RATE,
    grace=settings.REQUEST_BODY_GRACE_SECONDS,
    idle=settings.REQUEST_BODY_IDLE_SECONDS,
)
