import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "butwhy.settings")

# Pages work under WSGI, but live streams need the ASGI server (butwhy.asgi).
application = get_wsgi_application()
