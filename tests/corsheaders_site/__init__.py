"""A Django + DRF API behind django-cors-headers, configured as its users commonly do: the
other Django deployment the probe is judged against."""
