"""A monthly statement written out: CSV text and a printable, self-contained HTML document."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from pointflex.domain.dates import local_day
from pointflex.services.points.statements import ChargeLine, MonthlyStatement

CSV_HEADER = ["day", "serial", "config_id", "config_name", "product_type", "points"]
TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates" / "statements"
CSV_CHUNK_CHARS = 64_000  # the CSV streams out in pieces of about this size


def statement_csv_rows(st: MonthlyStatement) -> Iterator[str]:
    """The charge lines as CSV text, a header then one line per charge."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for c in st.lines:
        writer.writerow(
            [c.day.isoformat(), c.serial, c.config_id, c.config_name, c.product_type, c.points]
        )
        if buffer.tell() > CSV_CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def statement_csv(st: MonthlyStatement) -> str:
    return "".join(statement_csv_rows(st))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["points"] = lambda value: f"{Decimal(value):,.2f}"
    return env


_ENV = _environment()


# The HTML statement carries its own style and nothing else: no script, image or font, so a
# policy stricter than the portal's, with only the inline style block allowed.
STATEMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def statement_html(st: MonthlyStatement) -> str:
    """A printable, self-contained HTML document (no external assets)."""
    generated = local_day(st.generated_at, st.program.timezone)
    return _ENV.get_template("statement.html").render(
        st=st, s=st.summary, generated=generated, charge_rows=_charge_rows(st.lines)
    )


def _charge_rows(lines: list[ChargeLine]) -> Markup:
    """The charge table's rows, built here rather than in a template loop: a month of a large
    account is tens of thousands of rows, and this is several times faster (escaped alike).
    Days, configurations and amounts repeat, so each is formatted once."""
    days: dict[date, str] = {}
    configs: dict[int, str] = {}
    amounts: dict[Decimal, str] = {}
    parts: list[str] = []
    for c in lines:
        day = days.get(c.day)
        if day is None:
            day = days[c.day] = f'<tr><td>{c.day.isoformat()}</td><td class="mono">'
        config = configs.get(c.config_id)
        if config is None:
            config = configs[c.config_id] = (
                f"</td><td>{c.config_id} · {escape(c.config_name)}</td>"
                f'<td>{escape(c.product_type)}</td><td class="num">'
            )
        amount = amounts.get(c.points)
        if amount is None:
            amount = amounts[c.points] = f"{c.points:,.2f}</td></tr>\n"
        parts.append(day + str(escape(c.serial)) + config + amount)
    return Markup("".join(parts))  # noqa: S704 — text fields escaped above; dates, ids, amounts formatted here
