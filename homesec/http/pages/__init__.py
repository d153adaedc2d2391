"""The dashboard's pages: server-side Jinja templates plus small ES modules (no build step).

Each page reads the same query functions as the REST API (``homesec.http.queries``), and its
scripts change things through the REST API itself, so the dashboard has no truth of its own.
``templates`` builds the Jinja environment (times in the house's zone, risk bands); one module
per page; every page extends ``base.html``, whose nav lists them (``NAV``): a new page is a
module here, a template, and one line in ``NAV``.
"""
