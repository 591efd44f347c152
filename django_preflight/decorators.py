"""``@cors_policy("name")``: a view names the policy that decides its cross-origin requests.

The name is kept on the view as ``cors_policy``, so a class-based view (Django's or DRF's) can
set the same attribute in its class body instead. The middleware finds it by resolving the
request's path, preflights included, before the view runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .engine.limits import POLICY_NAME_LENGTH

ATTRIBUTE = "cors_policy"

ViewT = TypeVar("ViewT", bound=Callable[..., Any])


def cors_policy(name: str) -> Callable[[ViewT], ViewT]:
    """Decide this view's CORS with the enabled policy called ``name``, whatever its path.

    Put it outermost (above ``@api_view``, ``@csrf_exempt`` and the like), so the attribute
    lands on the function Django routes to.
    """
    if not isinstance(name, str) or not 0 < len(name) <= POLICY_NAME_LENGTH:
        raise TypeError(
            f"cors_policy() takes a policy name of 1 to {POLICY_NAME_LENGTH} characters, "
            f"not {name!r}."
        )

    def decorate(view: ViewT) -> ViewT:
        setattr(view, ATTRIBUTE, name)
        return view

    return decorate


def policy_of(view: Callable[..., Any]) -> str | None:
    """The policy a routed view names: on the function, or on the class ``as_view()`` made it
    from (``view_class`` for Django and DRF views, ``cls`` for DRF viewsets)."""
    for holder in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        name = getattr(holder, ATTRIBUTE, None)
        if isinstance(name, str):
            return name
    return None
