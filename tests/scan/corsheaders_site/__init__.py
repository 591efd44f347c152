"""A minimal project protected by django-cors-headers, in a sloppy or a correct configuration.

``PREFLIGHT_SCAN_CORSHEADERS`` selects it: ``sloppy`` trusts ``CORS_ALLOWED_ORIGIN_REGEXES``
written the way hurried fixes write them; ``correct`` lists the one exact origin.
"""
