"""A small project that shows django-preflight serving a frontend on another origin."""
