"""A monthly statement as an HTTP answer, the same from the API and the portal: CSV streamed
as a download, HTML with the statement's own content security policy."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, StreamingResponse

from pointflex.renderers import statements
from pointflex.services.points.statements import MonthlyStatement


def csv_download(found: MonthlyStatement) -> StreamingResponse:
    name = f"statement-{found.program.serial}-{found.month:%Y-%m}.csv"
    return StreamingResponse(
        statements.statement_csv_rows(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def html_page(found: MonthlyStatement) -> HTMLResponse:
    return HTMLResponse(
        statements.statement_html(found),
        headers={"Content-Security-Policy": statements.STATEMENT_CSP},
    )
