"""Side-by-side benchmarks of django-preflight, django-cors-headers and a constant floor.

Run ``python -m benchmarks`` (or ``--quick``); see docs/benchmarks.md.
"""
