"""Files of the facilities app: the iCal feed of an instrument, monthly statements as PDF (embedded CJK font,
as the plan report) and Excel."""

from __future__ import annotations

import datetime as dt
import io
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core.excel import xlsx_export
from sciencecity.core.importing import Column


def _ics_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ical_feed(instrument, slots) -> str:
    """RFC 5545 calendar of booked slots (busy only: no names, no organisations)."""
    stamp = _ics_time(timezone.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//sciencecity//facilities//ZH",
             f"X-WR-CALNAME:{_ics_text(str(instrument))}", "CALSCALE:GREGORIAN"]
    for b in slots:
        lines += ["BEGIN:VEVENT", f"UID:booking-{b.pk}@sciencecity", f"DTSTAMP:{stamp}",
                  f"DTSTART:{_ics_time(b.starts_at)}", f"DTEND:{_ics_time(b.ends_at)}",
                  f"SUMMARY:{_ics_text(_('Booked') + ': ' + instrument.name)}",
                  f"STATUS:{'TENTATIVE' if b.state == 'requested' else 'CONFIRMED'}", "TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def _rows(statement):
    for r in statement.rows:
        yield [timezone.localtime(r.started_at).strftime("%Y-%m-%d %H:%M"), r.instrument.code, r.instrument.name,
               r.instrument.host.name, r.booking.user.get_username(), r.get_user_class_display(), r.minutes,
               r.hourly_rate, r.fee, r.voucher_paid, r.fee - r.voucher_paid]


def _headers() -> list[str]:
    return [_("Checked in"), _("Code"), _("Instrument"), _("Host"), _("User"), _("User class"), _("Billed minutes"),
            _("Price per hour (CNY)"), _("Fee (CNY)"), _("Voucher (CNY)"), _("Payable (CNY)")]


def statement_xlsx(statement) -> IO[bytes]:
    columns = [Column(key=f"c{n}", headers=[h]) for n, h in enumerate(_headers())]
    rows = list(_rows(statement))
    rows.append(["", "", _("Total"), "", "", "", statement.total_minutes, "", statement.total_fee,
                 statement.total_voucher, statement.total_payable])
    return xlsx_export(f"{statement.year}-{statement.month:02d}", columns, rows)


def statement_pdf(statement) -> bytes:
    """月度结算单 as PDF: a table of the month's usage with totals, Chinese text in the embedded CJK font."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from sciencecity.plans.report import pdf_font

    font = pdf_font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=f"{statement.organisation.name} "
                            f"{statement.year}-{statement.month:02d}", leftMargin=30, rightMargin=30)
    title = ParagraphStyle("t", fontName=font, fontSize=15, leading=20)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=12)
    cell = ParagraphStyle("c", fontName=font, fontSize=7.5, leading=9)
    story = [Paragraph(_("Monthly statement of shared-instrument use"), title),
             Paragraph(f"{statement.organisation.name} · {statement.year}-{statement.month:02d}", body), Spacer(1, 8)]
    data = [[Paragraph(h, cell) for h in _headers()]]
    for row in _rows(statement):
        data.append([Paragraph(str(v), cell) for v in row])
    data.append([Paragraph(str(v), cell) for v in ["", "", _("Total"), "", "", "", statement.total_minutes, "",
                                                    statement.total_fee, statement.total_voucher,
                                                    statement.total_payable]])
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 10), Paragraph(_("Synthetic demo data are marked as such on the platform; "
                                                "amounts in CNY.") if any(r.is_synthetic for r in statement.rows)
                                              else _("Amounts in CNY."), body)]
    doc.build(story)
    return buffer.getvalue()


