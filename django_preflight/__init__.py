"""django-preflight: CORS policies in the database, preflights answered first."""

__version__ = "0.1.0"
