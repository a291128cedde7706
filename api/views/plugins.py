"""The installed plugins: name, version, where they come from and the hooks they implement."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from api.problems import invalid
from core.plugins import hookspecs
from loanfactory.plugins_host import get_plugins


def register(bp: Blueprint) -> None:
    @bp.get("/plugins")
    def list_plugins() -> Response:
        """Every plugin (``?hook=NAME``: only those implementing that hook), as ``loanfactory plugins``."""
        hook = request.args.get("hook")
        known = {name for hooks in hookspecs.HOOK_FAMILIES.values() for name in hooks}
        if hook is not None and hook not in known:
            raise invalid([("query:hook", f"unknown hook {hook!r}; expected one of {', '.join(sorted(known))}")])
        return jsonify(get_plugins().as_json(hook))
