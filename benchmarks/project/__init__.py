"""A minimal Django project: one view behind the usual middleware, under three CORS layers."""
