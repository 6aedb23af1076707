//! Unit tests of the opening-hours calendar (holidays, closures, DST, midnight ranges).

use super::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn hm(s: &str) -> NaiveTime {
    parse_time(s, true).unwrap()
}

/// A calendar with the default holidays but other hours and extra lines.
fn custom(hours: &str, extra: &str) -> OpeningCalendar {
    let holidays = DEFAULT_TOML
        .split_once("\n[[holiday]]\n")
        .map(|(_, h)| format!("[[holiday]]\n{h}"))
        .unwrap();
    OpeningCalendar::from_toml(&format!(
        "timezone = \"Europe/Paris\"\n{extra}\n[hours]\n{hours}\n{holidays}"
    ))
    .unwrap()
}

/// Checks `next_opening`/`next_closing` against `is_open` every 10 minutes.
fn check_consistency(cal: &OpeningCalendar, from: &str, days: i64) {
    let start = utc(from);
    let second = Duration::seconds(1);
    for step in 0..days * 144 {
        let t = start + Duration::minutes(10 * step);
        if cal.is_open(t) {
            assert_eq!(cal.next_opening(t), Some(t));
            if let Some(c) = cal.next_closing(t) {
                assert!(
                    c > t && !cal.is_open(c) && cal.is_open(c - second),
                    "{t} {c}"
                );
            }
        } else {
            assert_eq!(cal.next_closing(t), Some(t));
            if let Some(o) = cal.next_opening(t) {
                assert!(
                    o > t && cal.is_open(o) && !cal.is_open(o - second),
                    "{t} {o}"
                );
            }
        }
    }
}

#[test]
fn embedded_defaults_parse() {
    let cal = OpeningCalendar::defaults().unwrap();
    assert_eq!(cal.timezone(), chrono_tz::Europe::Paris);
    let week = cal.week_hours();
    assert_eq!(week.len(), 7);
    assert_eq!(week[0].0, Weekday::Mon);
    assert!(
        week.iter()
            .all(|(_, h)| *h == Some((hm("09:00"), hm("23:00"))))
    );
    assert_eq!(cal.holiday_hours(), HolidayHours::Same);
    assert_eq!(cal.holidays().len(), 11);
    assert!(cal.closures().is_empty());
}

#[test]
fn easter_known_dates() {
    for (y, d) in [
        (2024, "2024-03-31"),
        (2025, "2025-04-20"),
        (2026, "2026-04-05"),
        (2027, "2027-03-28"),
        (2000, "2000-04-23"),
        (2019, "2019-04-21"),
        (2038, "2038-04-25"),
        (2285, "2285-03-22"),
        (1818, "1818-03-22"),
    ] {
        assert_eq!(easter_sunday(y), Some(date(d)), "{y}");
    }
    assert_eq!(easter_sunday(1200), None);
}

#[test]
fn french_holidays_2026() {
    let cal = OpeningCalendar::defaults().unwrap();
    let days: Vec<String> = cal
        .holidays_in(2026)
        .iter()
        .map(|(d, _)| d.to_string())
        .collect();
    assert_eq!(
        days,
        [
            "2026-01-01",
            "2026-04-06",
            "2026-05-01",
            "2026-05-08",
            "2026-05-14",
            "2026-05-25",
            "2026-07-14",
            "2026-08-15",
            "2026-11-01",
            "2026-11-11",
            "2026-12-25"
        ]
    );
    assert_eq!(
        cal.holiday_on(date("2025-06-09")).unwrap().label("en"),
        "Whit Monday"
    );
    assert_eq!(
        cal.holiday_on(date("2027-05-06")).unwrap().label("fr"),
        "Ascension"
    );
    assert!(cal.holiday_on(date("2026-07-15")).is_none());
}

#[test]
fn defaults_open_every_day_including_holidays() {
    let cal = OpeningCalendar::defaults().unwrap();
    // Sunday 21:40 in July (CEST): open, closes at 23:00 local.
    let t = utc("2026-07-12T19:40:00Z");
    assert_eq!(
        cal.status(t),
        OpenStatus::Open {
            closes_at: Some(utc("2026-07-12T21:00:00Z"))
        }
    );
    assert!(cal.is_open(utc("2026-07-14T10:00:00Z")));
    // 23:30 local: closed for the night, no special reason.
    assert_eq!(
        cal.status(utc("2026-07-12T21:30:00Z")),
        OpenStatus::Closed {
            reopens_at: Some(utc("2026-07-13T07:00:00Z")),
            reason: None
        }
    );
    check_consistency(&cal, "2026-07-10T00:00:00Z", 7);
}

#[test]
fn holidays_closed_or_own_hours() {
    let cal = custom("every_day = \"09:00-23:00\"", "holiday_hours = \"closed\"");
    let t = utc("2026-07-14T10:00:00Z");
    let OpenStatus::Closed { reopens_at, reason } = cal.status(t) else {
        panic!("open on a closed holiday")
    };
    assert_eq!(reopens_at, Some(utc("2026-07-15T07:00:00Z")));
    assert_eq!(reason.unwrap().label("fr"), "Fête nationale");
    let cal = custom(
        "every_day = \"09:00-23:00\"",
        "holiday_hours = \"14:00-18:00\"",
    );
    assert!(!cal.is_open(utc("2026-12-25T10:00:00Z")));
    assert!(cal.is_open(utc("2026-12-25T13:00:00Z")));
    assert_eq!(
        cal.hours_on(date("2026-12-25")),
        Some((hm("14:00"), hm("18:00")))
    );
    assert_eq!(
        cal.next_closing(utc("2026-12-25T13:00:00Z")),
        Some(utc("2026-12-25T17:00:00Z"))
    );
}

#[test]
fn exceptional_closures() {
    let cal = custom(
        "every_day = \"09:00-23:00\"",
        "[[closure]]\nfrom = \"2026-12-24\"\nto = \"2026-12-25\"\n\
         fr = \"Fermeture de fin d'année\"\nen = \"Year-end closure\"\n",
    );
    assert_eq!(
        cal.next_closing(utc("2026-12-23T11:00:00Z")),
        Some(utc("2026-12-23T22:00:00Z"))
    );
    let OpenStatus::Closed { reopens_at, reason } = cal.status(utc("2026-12-24T11:00:00Z")) else {
        panic!("open during a closure")
    };
    assert_eq!(reopens_at, Some(utc("2026-12-26T08:00:00Z")));
    assert_eq!(reason.unwrap().label("en"), "Year-end closure");
    assert_eq!(cal.hours_on(date("2026-12-24")), None);
    check_consistency(&cal, "2026-12-20T00:00:00Z", 10);
}

#[test]
fn closure_cuts_a_range_running_past_midnight() {
    let cal = custom(
        "every_day = \"20:00-02:00\"",
        "[[closure]]\nfrom = \"2026-06-03\"\nto = \"2026-06-03\"\nfr = \"F\"\nen = \"E\"\n",
    );
    // Tuesday 2 June 20:00 local opens; the closure starts at midnight local.
    assert_eq!(
        cal.next_closing(utc("2026-06-02T19:00:00Z")),
        Some(utc("2026-06-02T22:00:00Z"))
    );
    assert_eq!(
        cal.next_opening(utc("2026-06-02T22:00:00Z")),
        Some(utc("2026-06-03T22:00:00Z"))
    );
    check_consistency(&cal, "2026-06-01T00:00:00Z", 5);
}

#[test]
fn dst_spring_forward_2026_03_29() {
    let cal = OpeningCalendar::defaults().unwrap();
    // Saturday 28 March (CET, UTC+1): 09:00–23:00 is 08:00–22:00 UTC.
    assert_eq!(
        cal.next_opening(utc("2026-03-28T00:00:00Z")),
        Some(utc("2026-03-28T08:00:00Z"))
    );
    assert_eq!(
        cal.next_closing(utc("2026-03-28T12:00:00Z")),
        Some(utc("2026-03-28T22:00:00Z"))
    );
    // Sunday 29 March (CEST, UTC+2): 07:00–21:00 UTC.
    assert_eq!(
        cal.next_opening(utc("2026-03-28T22:00:00Z")),
        Some(utc("2026-03-29T07:00:00Z"))
    );
    assert!(!cal.is_open(utc("2026-03-29T06:59:00Z")));
    assert!(cal.is_open(utc("2026-03-29T07:00:00Z")));
    assert_eq!(
        cal.next_closing(utc("2026-03-29T12:00:00Z")),
        Some(utc("2026-03-29T21:00:00Z"))
    );
    check_consistency(&cal, "2026-03-27T00:00:00Z", 4);
}

#[test]
fn dst_fall_back_2026_10_25() {
    let cal = OpeningCalendar::defaults().unwrap();
    // Saturday 24 October (CEST): opens 07:00 UTC; Sunday 25 (CET): opens 08:00 UTC.
    assert_eq!(
        cal.next_opening(utc("2026-10-24T00:00:00Z")),
        Some(utc("2026-10-24T07:00:00Z"))
    );
    assert_eq!(
        cal.next_opening(utc("2026-10-24T21:00:00Z")),
        Some(utc("2026-10-25T08:00:00Z"))
    );
    assert!(!cal.is_open(utc("2026-10-25T07:30:00Z")));
    assert_eq!(
        cal.next_closing(utc("2026-10-25T12:00:00Z")),
        Some(utc("2026-10-25T22:00:00Z"))
    );
    check_consistency(&cal, "2026-10-23T00:00:00Z", 4);
}

#[test]
fn midnight_spanning_ranges() {
    let cal = custom("every_day = \"20:00-02:00\"", "");
    // Tuesday 2 June 01:00 CEST (Monday's range).
    let t = utc("2026-06-01T23:00:00Z");
    assert_eq!(
        cal.status(t),
        OpenStatus::Open {
            closes_at: Some(utc("2026-06-02T00:00:00Z"))
        }
    );
    assert_eq!(
        cal.next_opening(utc("2026-06-02T00:00:00Z")),
        Some(utc("2026-06-02T18:00:00Z"))
    );
    // Across spring-forward: Saturday 20:00 CET to Sunday "02:00", which does not
    // exist and is 03:00 CEST (01:00 UTC).
    assert!(cal.is_open(utc("2026-03-29T00:59:00Z")));
    assert_eq!(
        cal.next_closing(utc("2026-03-28T19:00:00Z")),
        Some(utc("2026-03-29T01:00:00Z"))
    );
    // Across fall-back: Saturday 20:00 CEST to the first Sunday 02:00 (CEST).
    assert_eq!(
        cal.next_closing(utc("2026-10-24T18:00:00Z")),
        Some(utc("2026-10-25T00:00:00Z"))
    );
    check_consistency(&cal, "2026-03-26T00:00:00Z", 5);
    check_consistency(&cal, "2026-10-22T00:00:00Z", 5);
    // Only Monday nights: Tuesday 01:00 open, Tuesday 21:00 closed.
    let mondays = custom(
        "every_day = \"closed\"\nmonday = \"20:00-02:00\"",
        "holiday_hours = \"same\"",
    );
    assert!(mondays.is_open(utc("2026-06-01T23:00:00Z")));
    assert!(!mondays.is_open(utc("2026-06-02T19:00:00Z")));
    assert_eq!(
        mondays.next_opening(utc("2026-06-02T19:00:00Z")),
        Some(utc("2026-06-08T18:00:00Z"))
    );
}

#[test]
fn always_open_and_always_closed() {
    let open = custom("every_day = \"00:00-24:00\"", "");
    let t = utc("2026-03-29T01:30:00Z");
    assert!(open.is_open(t));
    assert_eq!(open.next_closing(t), None);
    assert_eq!(open.next_opening(t), Some(t));
    let closed = custom("every_day = \"closed\"", "");
    assert_eq!(
        closed.status(t),
        OpenStatus::Closed {
            reopens_at: None,
            reason: None
        }
    );
}

#[test]
fn invalid_calendars() {
    let bad = |s: &str| OpeningCalendar::from_toml(s).unwrap_err();
    let week = "[hours]\nevery_day = \"09:00-23:00\"\n";
    assert!(matches!(
        bad(&format!("timezone = \"Mars/Olympus\"\n{week}")),
        CalendarError::UnknownTimezone(_)
    ));
    assert!(matches!(
        bad("[hours]\nevery_day = \"9h-23h\"\n"),
        CalendarError::InvalidHours { .. }
    ));
    assert!(matches!(
        bad("[hours]\nevery_day = \"24:00-02:00\"\n"),
        CalendarError::InvalidHours { .. }
    ));
    assert!(matches!(
        bad("[hours]\nmonday = \"closed\"\n"),
        CalendarError::MissingDay(_)
    ));
    assert!(matches!(
        bad(&format!(
            "{week}[[holiday]]\ndate = \"02-30\"\nfr = \"a\"\nen = \"b\"\n"
        )),
        CalendarError::InvalidHoliday(_)
    ));
    assert!(matches!(
        bad(&format!(
            "{week}[[holiday]]\ndate = \"01-01\"\neaster = 1\nfr = \"a\"\nen = \"b\"\n"
        )),
        CalendarError::InvalidHoliday(_)
    ));
    assert!(matches!(
        bad(&format!(
            "{week}[[closure]]\nfrom = \"2026-02-02\"\nto = \"2026-02-01\"\nfr = \"a\"\nen = \"b\"\n"
        )),
        CalendarError::InvalidClosure(_)
    ));
    assert!(matches!(
        bad("[hours]\nfunday = \"closed\"\n"),
        CalendarError::Toml(_)
    ));
    // Another zone and 29 February.
    let cal = OpeningCalendar::from_toml(&format!(
        "timezone = \"America/Montreal\"\n{week}[[holiday]]\ndate = \"02-29\"\nfr = \"a\"\nen = \"b\"\n"
    ))
    .unwrap();
    assert_eq!(cal.timezone(), chrono_tz::America::Montreal);
    assert!(cal.holidays_in(2027).is_empty());
    assert_eq!(cal.holidays_in(2028).len(), 1);
}
