import os

from django.core.wsgi import get_wsgi_application

from wiredesk.processes import outlive_no_desk

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wiredesk.settings")
application = get_wsgi_application()
outlive_no_desk()
