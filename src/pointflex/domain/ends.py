"""What an entitlement's end date means (R42–R48, P11), decided once for every entry point.

The API, the portal and the CLI parse what the caller wrote into a ``RequestedEnd``; the
service resolves it inside its own transaction, in the time zone of the program each
entitlement belongs to. So the same ``endDate`` becomes the same instant whichever entry point
it came through, and a bulk selection spanning programs in several zones resolves each
entitlement in its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pointflex.domain.dates import WrittenDate, format_wire, local_day, parse_written_date, utc
from pointflex.domain.entitlements import TerminationMode, resolve_end


@dataclass(frozen=True)
class RequestedEnd:
    """Follow Program (``written`` None), or User Defined at a date as written."""

    written: WrittenDate | None = None

    @classmethod
    def parse(cls, text: str | None) -> RequestedEnd | None:
        """None when nothing was written (null, absent, blank: spec §7, C18)."""
        if text is None or not text.strip():
            return None
        return cls(parse_written_date(text))

    @classmethod
    def on_day(cls, day: date) -> RequestedEnd:
        """00:00 of ``day`` in the program's zone, as the portal's date fields mean (P11)."""
        return cls(WrittenDate(datetime.combine(day, time.min), None, day_only=True))

    @classmethod
    def at(cls, instant: datetime) -> RequestedEnd:
        """An instant already known, whatever the zone (jobs, the demo, tests)."""
        return cls(WrittenDate(utc(instant).replace(tzinfo=None), timedelta(0), day_only=False))

    @property
    def follows_program(self) -> bool:
        return self.written is None

    def instant(self, tz: str) -> datetime | None:
        """The end in a program of zone ``tz``; None for Follow Program."""
        return None if self.written is None else self.written.instant(tz)

    def resolve(
        self, tz: str, now: datetime, program_end: datetime
    ) -> tuple[datetime, TerminationMode]:
        """(end instant, termination mode), refused when past or after the program (R42–R44)."""
        return resolve_end(self.instant(tz), now, program_end)

    def names(self, end_at: datetime, mode: TerminationMode, tz: str) -> bool:
        """Whether this is the end the entitlement already shows, sent back: no change.

        Clients send back what they read (OAS: "can be existing or updated values"), so an
        echoed end must not turn a Follow Program entitlement into a User Defined one. It is
        the shown end to the second, or — as the portal's date field shows it — the day a User
        Defined end falls on, written without a time.
        """
        if self.written is None:
            return mode is TerminationMode.FOLLOW_PROGRAM
        wanted = self.written.instant(tz)
        if format_wire(wanted, tz) == format_wire(end_at, tz):
            return True
        return (
            self.written.day_only
            and self.written.offset is None
            and mode is TerminationMode.USER_DEFINED
            and local_day(end_at, tz) == self.written.wall.date()
        )


FOLLOW_PROGRAM = RequestedEnd()
