"""A small Django project that the service tests serve with gunicorn, several workers at a time."""
