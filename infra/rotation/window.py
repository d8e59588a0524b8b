"""Where a team key rotation stands, and what a rotation or an early finish changes. Pure.

A team key has a generation (1, 2, ...). A scheduled rotation moves to the next generation and
keeps the previous key working until `previous_expires`, `overlapDays` after the rotation, so
every teammate has time to re-join with the new key; a compromised key's rotation keeps no
previous key at all. The Worker compares its clock with the expiry on every request, so the
previous key stops at the expiry whether or not anything is deployed then; the next deploy after
it removes the previous key's binding (and `invoke rotate --finish` ends the window early).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from infra.errors import RotationRefused

UTC = datetime.timezone.utc


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(UTC).replace(microsecond=0)


def format_instant(moment: datetime.datetime) -> str:
    """`2026-11-22T10:00:00Z`: what stack files, the key record and the Worker's variable hold."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def show_instant(moment: datetime.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def show_duration(span: datetime.timedelta) -> str:
    """`3 days 4 hours`, `5 hours`, `12 minutes`: what a reader needs, not seconds."""
    seconds = max(int(span.total_seconds()), 0)
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if hours or (days and not parts):
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if not days and not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts[:2])


@dataclass(frozen=True)
class TeamKeyState:
    """One environment's team key: its generation, when it was rotated (None: before hyphae
    recorded rotations), and the end of the previous key's window (None: no previous key)."""

    generation: int
    rotated_at: datetime.datetime | None = None
    previous_expires: datetime.datetime | None = None

    @property
    def previous_generation(self) -> int | None:
        return self.generation - 1 if self.previous_expires is not None else None

    def previous_open(self, now: datetime.datetime) -> bool:
        """Whether the previous key still works at `now`."""
        return self.previous_expires is not None and now < self.previous_expires

    def age(self, now: datetime.datetime) -> datetime.timedelta | None:
        return now - self.rotated_at if self.rotated_at is not None else None


def declared_team_key(env) -> TeamKeyState:
    """A remote environment's team key as its stack file declares it (`hyphae:credentials`)."""
    settings = env.credentials
    return TeamKeyState(settings.team_key_generation, settings.team_key_rotated_at, settings.previous_key_expires)


def plan_rotation(state: TeamKeyState, overlap_days: int, now: datetime.datetime, *, compromised: bool,
                  where: str) -> TeamKeyState:
    """The next generation. A scheduled rotation keeps the current key as the previous one for
    `overlap_days` (none when 0); a compromised one keeps none. Raises RotationRefused when a
    scheduled rotation would cut off the previous key's window still open (`where` names it)."""
    if not compromised and state.previous_open(now):
        raise RotationRefused(
            f"{where}: generation {state.previous_generation} still works until {show_instant(state.previous_expires)}; "
            "a second rotation now would cut it off at once. End that window first (`invoke rotate --finish`), "
            "or rotate with --compromised if the key leaked")
    keep_previous = not compromised and overlap_days > 0
    expires = now + datetime.timedelta(days=overlap_days) if keep_previous else None
    return TeamKeyState(state.generation + 1, now, expires)


def plan_finish(state: TeamKeyState, now: datetime.datetime, *, where: str) -> TeamKeyState:
    """The same generation without its previous key. Raises RotationRefused when none is declared."""
    if state.previous_expires is None:
        raise RotationRefused(f"{where}: generation {state.generation} has no previous key to retire")
    return replace(state, previous_expires=None)
