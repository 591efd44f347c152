"""A relay for third-party APIs without CORS: registered upstreams only, never an open proxy.

Add ``"django_preflight.relay"`` to ``INSTALLED_APPS`` and include ``django_preflight.relay.urls``
(WSGI) or ``django_preflight.relay.urls_async`` (ASGI); see docs/relay.md.
"""
