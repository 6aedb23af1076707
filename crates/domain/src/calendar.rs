//! The opening-hours calendar: when the line is open, when it next opens or closes.
//!
//! Hours are local times in the calendar's time zone (Europe/Paris by default), one
//! range per weekday; a range may run past midnight ("20:00-02:00"). Public holidays
//! are computed each year from fixed dates and offsets from Easter Sunday, and have
//! their own hours; exceptional closures (whole days, with a reason) override
//! everything. The defaults are embedded from `data/calendar.toml`.
//!
//! A range belongs to the local day it starts on. Local times that a DST change skips
//! are moved forward by the gap (02:30 on a spring-forward night is 03:30), and local
//! times that happen twice take the first occurrence.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::Deserialize;

/// The embedded default calendar.
const DEFAULT_TOML: &str = include_str!("../data/calendar.toml");

/// How far ahead [`OpeningCalendar::next_opening`] and `next_closing` look.
pub const SEARCH_DAYS: i64 = 400;

/// One day's opening range in local time; an end at or before the start is the next
/// day's (equal times: 24 hours).
pub type DayHours = Option<(NaiveTime, NaiveTime)>;

/// The hours on a public holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayHours {
    /// The usual hours of that weekday.
    Same,
    /// Closed all day.
    Closed,
    /// A range of its own.
    Open(NaiveTime, NaiveTime),
}

/// How a public holiday's date is found each year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayRule {
    /// The same month and day every year.
    Fixed {
        /// 1–12.
        month: u32,
        /// 1–31.
        day: u32,
    },
    /// A number of days after Easter Sunday (negative: before).
    Easter(i64),
}

/// A public holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// How its date is found.
    pub rule: HolidayRule,
    /// French name.
    pub fr: String,
    /// English name.
    pub en: String,
}

impl Holiday {
    /// Its date in `year`, if it has one (29 February does not every year).
    pub fn date_in(&self, year: i32) -> Option<NaiveDate> {
        match self.rule {
            HolidayRule::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            HolidayRule::Easter(n) => easter_sunday(year)?.checked_add_signed(Duration::days(n)),
        }
    }

    /// The name in `lang` (`"en"`, otherwise French).
    pub fn label(&self, lang: &str) -> &str {
        pick(lang, &self.fr, &self.en)
    }
}

/// An exceptional closure over whole local days, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    /// First closed day.
    pub from: NaiveDate,
    /// Last closed day.
    pub to: NaiveDate,
    /// Reason in French.
    pub fr: String,
    /// Reason in English.
    pub en: String,
}

/// Why the line is closed outside its usual hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClosureReason {
    /// A public holiday with other hours.
    Holiday {
        /// French name.
        fr: String,
        /// English name.
        en: String,
    },
    /// An exceptional closure.
    Exceptional {
        /// French reason.
        fr: String,
        /// English reason.
        en: String,
    },
}

impl ClosureReason {
    /// The reason in `lang` (`"en"`, otherwise French).
    pub fn label(&self, lang: &str) -> &str {
        match self {
            ClosureReason::Holiday { fr, en } | ClosureReason::Exceptional { fr, en } => {
                pick(lang, fr, en)
            }
        }
    }
}

/// Whether the line is open at an instant, and until or from when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenStatus {
    /// Open; `closes_at` is `None` if it stays open beyond the search horizon.
    Open {
        /// When it next closes.
        closes_at: Option<DateTime<Utc>>,
    },
    /// Closed; `reopens_at` is `None` if it stays closed beyond the search horizon.
    Closed {
        /// When it next opens.
        reopens_at: Option<DateTime<Utc>>,
        /// A holiday or exceptional closure; `None` outside the usual hours.
        reason: Option<ClosureReason>,
    },
}

/// Why a calendar could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The TOML did not parse or did not have the expected shape.
    #[error("calendar: {0}")]
    Toml(#[from] toml::de::Error),
    /// Not an IANA time-zone name.
    #[error("calendar: unknown time zone {0:?}")]
    UnknownTimezone(String),
    /// Hours that are neither "closed" nor "HH:MM-HH:MM".
    #[error("calendar: invalid hours {value:?} for {field}")]
    InvalidHours {
        /// Which entry.
        field: String,
        /// The rejected value.
        value: String,
    },
    /// A weekday with no hours and no `every_day`.
    #[error("calendar: no hours for {0}")]
    MissingDay(String),
    /// A holiday without exactly one valid rule, or with a blank name.
    #[error("calendar: invalid holiday {0:?}")]
    InvalidHoliday(String),
    /// A closure with an invalid date, `from` after `to`, or a blank reason.
    #[error("calendar: invalid closure {0:?}")]
    InvalidClosure(String),
}

fn pick<'a>(lang: &str, fr: &'a str, en: &'a str) -> &'a str {
    if crate::notice::is_en(lang) { en } else { fr }
}

/// Easter Sunday of a Gregorian year (1583 and later), by the anonymous Gregorian
/// algorithm (Meeus / Jones / Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    if year < 1583 {
        return None;
    }
    let (a, b, c) = (year % 19, year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    NaiveDate::from_ymd_opt(
        year,
        u32::try_from(n / 31).ok()?,
        u32::try_from(n % 31 + 1).ok()?,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    timezone: Option<String>,
    holiday_hours: Option<String>,
    hours: RawWeek,
    #[serde(default)]
    holiday: Vec<RawHoliday>,
    #[serde(default)]
    closure: Vec<RawClosure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeek {
    every_day: Option<String>,
    monday: Option<String>,
    tuesday: Option<String>,
    wednesday: Option<String>,
    thursday: Option<String>,
    friday: Option<String>,
    saturday: Option<String>,
    sunday: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    date: Option<String>,
    easter: Option<i64>,
    fr: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosure {
    from: String,
    to: String,
    fr: String,
    en: String,
}

fn parse_time(s: &str, is_end: bool) -> Option<NaiveTime> {
    let s = s.trim();
    if is_end && s == "24:00" {
        return Some(NaiveTime::MIN);
    }
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// Parses "closed" or "HH:MM-HH:MM".
fn parse_hours(field: &str, value: &str) -> Result<DayHours, CalendarError> {
    let bad = || CalendarError::InvalidHours {
        field: field.to_string(),
        value: value.to_string(),
    };
    if value.trim() == "closed" {
        return Ok(None);
    }
    let (s, e) = value.split_once('-').ok_or_else(bad)?;
    let start = parse_time(s, false).ok_or_else(bad)?;
    let end = parse_time(e, true).ok_or_else(bad)?;
    Ok(Some((start, end)))
}

fn parse_holiday(raw: RawHoliday) -> Result<Holiday, CalendarError> {
    let bad = || CalendarError::InvalidHoliday(raw.fr.clone());
    if raw.fr.trim().is_empty() || raw.en.trim().is_empty() {
        return Err(bad());
    }
    let rule = match (&raw.date, raw.easter) {
        (Some(md), None) => {
            let (m, d) = md.split_once('-').ok_or_else(bad)?;
            let (month, day) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
            // 2000 is a leap year: 29 February is a valid rule.
            NaiveDate::from_ymd_opt(2000, month, day).ok_or_else(bad)?;
            HolidayRule::Fixed { month, day }
        }
        (None, Some(n)) if (-100..=100).contains(&n) => HolidayRule::Easter(n),
        _ => return Err(bad()),
    };
    Ok(Holiday {
        rule,
        fr: raw.fr,
        en: raw.en,
    })
}

fn parse_closure(raw: RawClosure) -> Result<Closure, CalendarError> {
    let bad = || CalendarError::InvalidClosure(format!("{} – {}", raw.from, raw.to));
    let from = NaiveDate::parse_from_str(raw.from.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    let to = NaiveDate::parse_from_str(raw.to.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    if from > to || raw.fr.trim().is_empty() || raw.en.trim().is_empty() {
        return Err(bad());
    }
    Ok(Closure {
        from,
        to,
        fr: raw.fr,
        en: raw.en,
    })
}

/// The helpline's opening hours, holidays and closures in one time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct OpeningCalendar {
    tz: Tz,
    /// Monday first.
    week: [DayHours; 7],
    holiday_hours: HolidayHours,
    holidays: Vec<Holiday>,
    closures: Vec<Closure>,
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

impl OpeningCalendar {
    /// The embedded defaults (`data/calendar.toml`).
    pub fn defaults() -> Result<Self, CalendarError> {
        Self::from_toml(DEFAULT_TOML)
    }

    /// Parses and validates a calendar (see `data/calendar.toml` for the format).
    pub fn from_toml(s: &str) -> Result<Self, CalendarError> {
        let raw: RawCalendar = toml::from_str(s)?;
        let tz_name = raw.timezone.as_deref().unwrap_or("Europe/Paris");
        let tz: Tz = tz_name
            .parse()
            .map_err(|_| CalendarError::UnknownTimezone(tz_name.to_string()))?;
        let w = &raw.hours;
        let named = [
            ("monday", &w.monday),
            ("tuesday", &w.tuesday),
            ("wednesday", &w.wednesday),
            ("thursday", &w.thursday),
            ("friday", &w.friday),
            ("saturday", &w.saturday),
            ("sunday", &w.sunday),
        ];
        let mut week = [None; 7];
        for (slot, (name, value)) in week.iter_mut().zip(named) {
            *slot = match (value, &w.every_day) {
                (Some(v), _) => parse_hours(name, v)?,
                (None, Some(v)) => parse_hours("every_day", v)?,
                (None, None) => return Err(CalendarError::MissingDay(name.to_string())),
            };
        }
        let holiday_hours = match raw.holiday_hours.as_deref().map(str::trim) {
            None | Some("same") => HolidayHours::Same,
            Some(v) => match parse_hours("holiday_hours", v)? {
                None => HolidayHours::Closed,
                Some((s, e)) => HolidayHours::Open(s, e),
            },
        };
        let holidays = raw
            .holiday
            .into_iter()
            .map(parse_holiday)
            .collect::<Result<_, _>>()?;
        let mut closures: Vec<Closure> = raw
            .closure
            .into_iter()
            .map(parse_closure)
            .collect::<Result<_, _>>()?;
        closures.sort_by_key(|c| c.from);
        Ok(OpeningCalendar {
            tz,
            week,
            holiday_hours,
            holidays,
            closures,
        })
    }

    /// The time zone all hours are in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The usual hours of each weekday, Monday first, for display.
    pub fn week_hours(&self) -> Vec<(Weekday, Option<(NaiveTime, NaiveTime)>)> {
        WEEK.into_iter().zip(self.week).collect()
    }

    /// The hours on public holidays.
    pub fn holiday_hours(&self) -> HolidayHours {
        self.holiday_hours
    }

    /// The public-holiday rules.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The exceptional closures, by start date.
    pub fn closures(&self) -> &[Closure] {
        &self.closures
    }

    /// The public holiday falling on `date`, if any.
    pub fn holiday_on(&self, date: NaiveDate) -> Option<&Holiday> {
        let y = date.year();
        self.holidays
            .iter()
            .find(|h| (y - 1..=y + 1).any(|y| h.date_in(y) == Some(date)))
    }

    /// The public holidays of `year`, by date.
    pub fn holidays_in(&self, year: i32) -> Vec<(NaiveDate, &Holiday)> {
        let mut v: Vec<_> = self
            .holidays
            .iter()
            .filter_map(|h| Some((h.date_in(year)?, h)))
            .collect();
        v.sort_by_key(|(d, _)| *d);
        v
    }

    /// The exceptional closure covering `date`, if any.
    pub fn closure_on(&self, date: NaiveDate) -> Option<&Closure> {
        self.closures
            .iter()
            .find(|c| c.from <= date && date <= c.to)
    }

    /// The opening range starting on local `date` (holidays applied; closures not).
    fn planned_hours(&self, date: NaiveDate) -> DayHours {
        let usual = self.week[date.weekday().num_days_from_monday() as usize];
        if self.holiday_on(date).is_none() {
            return usual;
        }
        match self.holiday_hours {
            HolidayHours::Same => usual,
            HolidayHours::Closed => None,
            HolidayHours::Open(s, e) => Some((s, e)),
        }
    }

    /// The opening range starting on local `date`, holidays and closures applied.
    pub fn hours_on(&self, date: NaiveDate) -> DayHours {
        match self.closure_on(date) {
            Some(_) => None,
            None => self.planned_hours(date),
        }
    }

    /// A local time as an instant: skipped times move forward by the gap, repeated
    /// times take their first occurrence.
    fn resolve(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
            LocalResult::None => {
                // In a gap: use the offset in force a day earlier, i.e. before the gap.
                let before = local.checked_sub_signed(Duration::days(1))?;
                let offset = self.tz.offset_from_utc_datetime(&before).fix();
                let utc = local
                    .checked_sub_signed(Duration::seconds(i64::from(offset.local_minus_utc())))?;
                Some(Utc.from_utc_datetime(&utc))
            }
        }
    }

    /// The instants of the range starting on local `date` (closures not applied).
    fn interval(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (s, e) = self.planned_hours(date)?;
        let start = self.resolve(date.and_time(s))?;
        let end_date = if e <= s { date.succ_opt()? } else { date };
        let end = self.resolve(end_date.and_time(e))?;
        (start < end).then_some((start, end))
    }

    /// The instants of an exceptional closure.
    fn closure_span(&self, c: &Closure) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.resolve(c.from.and_time(NaiveTime::MIN))?;
        let end = self.resolve(c.to.succ_opt()?.and_time(NaiveTime::MIN))?;
        Some((start, end))
    }

    /// The closure covering instant `at`, with the instant it ends.
    fn closure_at(&self, at: DateTime<Utc>) -> Option<(&Closure, DateTime<Utc>)> {
        self.closures.iter().find_map(|c| {
            let (s, e) = self.closure_span(c)?;
            (s <= at && at < e).then_some((c, e))
        })
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The ranges that may cover `at`: those starting the local day before and that day.
    fn covering(&self, at: DateTime<Utc>) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> {
        let day = self.local_date(at);
        [day.pred_opt(), Some(day)]
            .into_iter()
            .flatten()
            .filter_map(|d| self.interval(d))
            .filter(move |(a, b)| *a <= at && at < *b)
    }

    /// Whether the line is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.closure_at(at).is_none() && self.covering(at).next().is_some()
    }

    /// The first instant at or after `at` when the line is open (`at` itself if open),
    /// looking [`SEARCH_DAYS`] ahead.
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let limit = at.checked_add_signed(Duration::days(SEARCH_DAYS))?;
        let mut day = self.local_date(at).pred_opt()?;
        let mut best: Option<DateTime<Utc>> = None;
        for _ in 0..SEARCH_DAYS + 2 {
            if let Some((a, b)) = self.interval(day) {
                if best.is_some_and(|x| a >= x) {
                    break;
                }
                let mut t = a.max(at);
                // Skip over exceptional closures within the range.
                while let Some((_, end)) = self.closure_at(t) {
                    t = end;
                }
                if t < b {
                    best = Some(best.map_or(t, |x| x.min(t)));
                }
            }
            day = day.succ_opt()?;
        }
        best.filter(|t| *t <= limit)
    }

    /// The first instant at or after `at` when the line is closed (`at` itself if
    /// closed), looking [`SEARCH_DAYS`] ahead.
    pub fn next_closing(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let limit = at.checked_add_signed(Duration::days(SEARCH_DAYS))?;
        let mut t = at;
        while t <= limit {
            if !self.is_open(t) {
                return Some(t);
            }
            let mut end = self.covering(t).map(|(_, b)| b).max()?;
            for c in &self.closures {
                if let Some((s, _)) = self.closure_span(c)
                    && t < s
                    && s < end
                {
                    end = s;
                }
            }
            t = end;
        }
        None
    }

    /// Open until when, or closed until when and why.
    pub fn status(&self, at: DateTime<Utc>) -> OpenStatus {
        if self.is_open(at) {
            return OpenStatus::Open {
                closes_at: self.next_closing(at),
            };
        }
        let day = self.local_date(at);
        let reason = if let Some((c, _)) = self.closure_at(at) {
            Some(ClosureReason::Exceptional {
                fr: c.fr.clone(),
                en: c.en.clone(),
            })
        } else {
            let usual = self.week[day.weekday().num_days_from_monday() as usize];
            self.holiday_on(day)
                .filter(|_| self.planned_hours(day) != usual)
                .map(|h| ClosureReason::Holiday {
                    fr: h.fr.clone(),
                    en: h.en.clone(),
                })
        };
        OpenStatus::Closed {
            reopens_at: self.next_opening(at),
            reason,
        }
    }
}

#[cfg(test)]
mod tests;
