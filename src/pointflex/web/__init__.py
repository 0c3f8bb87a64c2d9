"""The web portal: server-rendered pages (Jinja2 + htmx) served by the same app as the API.

See docs/portal.md for how to add a page: ``render``, ``portal_actor``, ``csrf_field()``,
flash messages and ``base.html``.
"""
