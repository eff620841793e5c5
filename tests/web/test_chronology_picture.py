"""The contact picture's geometry (web/picture.py): lanes, marks, gaps, bands, flags and ticks, without SVG."""

from __future__ import annotations

from datetime import date

from web import picture as pic

EH, HV, GP = "early-help", "health-visiting", "gp"


def contact(on: date, agency: str, outcome: str = "seen", kind: str = "home_visit", version: int = 1) -> pic.ContactIn:
    names = {EH: "Northfield Early Help", HV: "Northfield Health Visiting", GP: "Riverside Medical Practice"}
    return pic.ContactIn(on, agency, names[agency], kind, outcome, version, f"{kind} {outcome}")


def test_each_agency_gets_its_own_lane_in_order_of_first_contact() -> None:
    picture = pic.build(
        [
            contact(date(2026, 3, 1), HV, version=3),
            contact(date(2026, 2, 1), EH, version=2),
            contact(date(2026, 4, 1), HV, version=4),
            contact(date(2026, 4, 2), GP, version=5),
        ],
        end=date(2026, 6, 1),
    )
    assert [lane.agency_id for lane in picture.lanes] == [EH, HV, GP]
    assert [m.y for m in picture.marks_in(HV)] == [picture.lanes[1].middle] * 2
    assert picture.lanes[0].y < picture.lanes[1].y < picture.lanes[2].y


def test_marks_move_right_as_time_passes_and_stay_inside_the_plot() -> None:
    picture = pic.build(
        [contact(date(2026, 1, 10), EH, version=1), contact(date(2026, 5, 20), EH, version=2)], end=date(2026, 6, 1)
    )
    first, last = picture.marks_in(EH)
    assert picture.plot_left <= first.x < last.x <= picture.plot_right


def test_each_outcome_has_its_own_shape() -> None:
    marks = pic.build(
        [contact(date(2026, 5, i + 1), EH, o, version=i) for i, o in enumerate(pic.OUTCOMES)], end=date(2026, 6, 1)
    ).marks
    assert {m.outcome: m.shape for m in marks} == {
        "seen": "circle",
        "no_access": "square",
        "was_not_brought": "triangle",
        "family_cancelled": "diamond",
        "declined": "cross",
    }
    assert all(m.points for m in marks if m.shape != "circle")


def test_a_phone_contact_is_drawn_hollow_and_does_not_count_as_seeing_the_family() -> None:
    period = pic.PeriodIn(date(2026, 1, 1), date(2026, 3, 1), 28)
    picture = pic.build(
        [contact(date(2026, 1, 20), EH, "seen", "phone", 1), contact(date(2026, 1, 21), HV, "seen", "home_visit", 2)],
        end=date(2026, 3, 1),
        periods=[period],
    )
    phone, visit = picture.marks
    assert phone.hollow and phone.shape == "circle"
    assert not visit.hollow
    # Without the home visit the phone call would not have broken the gap.
    alone = pic.build([contact(date(2026, 1, 20), EH, "seen", "phone", 1)], end=date(2026, 3, 1), periods=[period])
    assert [(g.start, g.end) for g in alone.gaps] == [(date(2026, 1, 1), date(2026, 3, 1))]


def test_a_gap_longer_than_the_interval_is_shaded_and_a_shorter_one_is_not() -> None:
    period = pic.PeriodIn(date(2026, 1, 1), date(2026, 5, 1), 28)
    picture = pic.build(
        [
            contact(date(2026, 1, 20), EH, version=1),  # 19 days after the start: fine
            contact(date(2026, 2, 10), HV, version=2),  # 21 days later: fine
            contact(date(2026, 3, 1), HV, "no_access", version=3),  # missed: does not count
            contact(date(2026, 4, 15), EH, version=4),
        ],  # 64 days without anyone seen
        end=date(2026, 5, 1),
        periods=[period],
    )
    assert [(g.start, g.end, g.days, g.interval_days) for g in picture.gaps] == [
        (date(2026, 2, 10), date(2026, 4, 15), 64, 28),
    ]
    gap = picture.gaps[0]
    assert gap.x == picture.marks_in(HV)[0].x and gap.x + gap.width == picture.marks_in(EH)[1].x
    assert gap.y == picture.lanes_top and gap.height == picture.lanes_bottom - picture.lanes_top
    assert not gap.ongoing


def test_a_gap_running_up_to_today_is_ongoing() -> None:
    period = pic.PeriodIn(date(2026, 4, 1), date(2026, 6, 1), 14)
    picture = pic.build([contact(date(2026, 4, 10), HV, version=1)], end=date(2026, 6, 1), periods=[period])
    assert [(g.start, g.end, g.ongoing) for g in picture.gaps] == [(date(2026, 4, 10), date(2026, 6, 1), True)]


def test_contacts_outside_every_period_make_no_gap() -> None:
    picture = pic.build(
        [contact(date(2025, 6, 1), EH, version=1), contact(date(2026, 5, 1), EH, version=2)], end=date(2026, 6, 1)
    )
    assert picture.gaps == []


def test_episodes_are_bands_across_the_lanes() -> None:
    picture = pic.build(
        [contact(date(2026, 2, 1), EH, version=3)],
        end=date(2026, 6, 1),
        episodes=[
            pic.EpisodeIn(date(2026, 1, 5), date(2026, 3, 1), "Episode 1, level 2"),
            pic.EpisodeIn(date(2026, 4, 1), None, "Episode 2, level 3"),
        ],
    )
    first, second = picture.bands
    assert first.label == "Episode 1, level 2" and first.end == date(2026, 3, 1)
    assert first.x < picture.marks[0].x < first.x + first.width
    assert second.end is None and abs(second.x + second.width - picture.x_at(date(2026, 6, 1))) < 0.2  # to today
    assert first.y + first.height == picture.lanes_bottom


def test_concerns_and_signals_are_flags_from_the_flag_row_down_through_the_lanes() -> None:
    picture = pic.build(
        [contact(date(2026, 2, 1), EH, version=1)],
        end=date(2026, 6, 1),
        flags=[
            pic.FlagIn(date(2026, 3, 1), "concern", "Neighbour's call", 7),
            pic.FlagIn(date(2026, 3, 2), "signal", "Lapsed contact"),
        ],
    )
    concern, signal = picture.flags
    assert concern.kind == "concern" and signal.kind == "signal"
    assert concern.top < picture.lanes_top and concern.bottom == picture.lanes_bottom
    assert signal.top != concern.top  # close flags are staggered so both stay visible


def test_other_entries_are_ticks_in_their_agency_lane_and_need_no_contact() -> None:
    picture = pic.build(
        [contact(date(2026, 2, 1), EH, version=1)],
        end=date(2026, 6, 1),
        entries=[pic.EntryIn(date(2026, 3, 1), GP, "Riverside Medical Practice", 4, "Registered")],
    )
    assert [lane.agency_id for lane in picture.lanes] == [EH, GP]
    (tick,) = picture.marks_in(GP)
    assert tick.shape == "tick" and tick.outcome == "entry"
    assert picture.contacts == picture.marks_in(EH)


def test_the_axis_has_a_tick_for_each_month_and_names_the_year_at_its_start() -> None:
    picture = pic.build([contact(date(2025, 11, 15), EH, version=1)], end=date(2026, 3, 10))
    assert picture.start == date(2025, 11, 1)
    assert [t.label for t in picture.ticks] == ["Nov 2025", "Dec", "Jan 2026", "Feb", "Mar"]
    assert [t.year_start for t in picture.ticks] == [False, False, True, False, False]


def test_the_legend_names_every_outcome_and_the_hollow_phone_mark() -> None:
    legend = {item.key: item for item in pic.build([], end=date(2026, 6, 1)).legend}
    assert set(pic.OUTCOMES) | {"remote", "entry", "episode", "gap", "concern", "signal"} == set(legend)
    assert legend["remote"].mark is not None and legend["remote"].mark.hollow


def test_the_summary_says_the_pattern_in_words() -> None:
    period = pic.PeriodIn(date(2026, 1, 1), date(2026, 6, 1), 28)
    picture = pic.build(
        [
            contact(date(2026, 1, 10), EH, version=1),
            contact(date(2026, 3, 1), HV, "no_access", 2),
            contact(date(2026, 3, 5), GP, "was_not_brought", version=3),
        ],
        end=date(2026, 6, 1),
        periods=[period],
    )
    summary = picture.summary()
    assert "3 contacts by 3 agencies" in summary and "1 seen face to face" in summary and "2 missed" in summary
    assert "the longest 142 days" in summary
    assert summary.startswith("From 1 January 2026 to 1 June 2026")


def test_a_long_agency_name_is_shortened_for_its_label() -> None:
    assert pic.short_name("Northfield Police Safeguarding Unit and Friends") == "Northfield Police Safeguarding Un…"
    assert pic.short_name("Riverside Medical Practice") == "Riverside Medical Practice"
