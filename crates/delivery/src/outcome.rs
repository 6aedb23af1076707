//! What happened to one delivery attempt, in three classes the job worker acts on.

use std::time::{Duration, SystemTime};

/// Longest wait taken from a `Retry-After` header.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The result of one delivery attempt.
///
/// Reasons are short stable snake_case codes, never text from the platform's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The platform has the notice.
    Delivered {
        /// The HTTP status of the answer.
        status: u16,
        /// The platform's reference for it: Coop's `reportId`, an `http_json` receiver's
        /// `ticket` or `id`, when the answer carried one.
        receipt: Option<String>,
        /// Whether this attempt created it or the platform already had it.
        at_platform: AtPlatform,
    },
    /// Worth trying again later.
    Transient {
        /// Why (`timeout`, `connect_refused`, `reset`, `http_503`, `http_429`, …).
        reason: &'static str,
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// How long the platform asked to wait (`Retry-After`, at most
        /// [`MAX_RETRY_AFTER`]).
        retry_after: Option<Duration>,
        /// The platform may have taken the notice anyway: the request reached it and no
        /// answer said otherwise. On an endpoint without idempotency (Coop) a retry may
        /// then create a second notice.
        maybe_delivered: bool,
    },
    /// Trying again will not help: a person must look (configuration, credentials, the
    /// notice's content).
    Permanent {
        /// Why (`http_401`, `http_400`, `redirect_refused`, `endpoint_local_address`, …).
        reason: &'static str,
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
    },
}

/// Whether the platform took the notice on this attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtPlatform {
    /// Taken now (a 2xx answer).
    Taken,
    /// The platform says it already had this notice: a `409 Conflict` to a push carrying
    /// an idempotency key (`http_json`'s `webhook-id`).
    AlreadyReceived,
}

impl Outcome {
    /// `delivered`, `transient` or `permanent`.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Delivered { .. } => "delivered",
            Outcome::Transient { .. } => "transient",
            Outcome::Permanent { .. } => "permanent",
        }
    }

    /// The reason code of a failure, `None` when delivered.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Outcome::Delivered { .. } => None,
            Outcome::Transient { reason, .. } | Outcome::Permanent { reason, .. } => Some(reason),
        }
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Delivered { status, .. } => Some(*status),
            Outcome::Transient { status, .. } | Outcome::Permanent { status, .. } => *status,
        }
    }

    /// The platform's receipt, when delivered with one.
    pub fn receipt(&self) -> Option<&str> {
        match self {
            Outcome::Delivered { receipt, .. } => receipt.as_deref(),
            _ => None,
        }
    }

    /// Delivered.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }

    pub(crate) fn permanent(reason: &'static str) -> Outcome {
        Outcome::Permanent {
            reason,
            status: None,
        }
    }
}

/// How a `409 Conflict` is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConflictMeans {
    /// The endpoint has an idempotency key: 409 says it already has this notice.
    AlreadyReceived,
    /// No idempotency key: 409 is a refusal like another 4xx.
    Refusal,
}

/// The class of a non-2xx status. `retry_after` is the parsed header.
pub(crate) fn classify_failure_status(
    status: u16,
    retry_after: Option<Duration>,
    conflict: ConflictMeans,
) -> Outcome {
    match status {
        300..=399 => Outcome::Permanent {
            reason: "redirect_refused",
            status: Some(status),
        },
        409 if conflict == ConflictMeans::AlreadyReceived => Outcome::Delivered {
            status,
            receipt: None,
            at_platform: AtPlatform::AlreadyReceived,
        },
        // the answer says the request was not processed
        408 | 425 | 429 => Outcome::Transient {
            reason: status_reason(status),
            status: Some(status),
            retry_after,
            maybe_delivered: false,
        },
        // not a temporary condition of the server
        501 | 505 => Outcome::Permanent {
            reason: status_reason(status),
            status: Some(status),
        },
        // a 5xx may come after the platform took the notice (a proxy timing out, a crash
        // after the commit): nothing in the answer tells these apart
        500..=599 => Outcome::Transient {
            reason: status_reason(status),
            status: Some(status),
            retry_after,
            maybe_delivered: true,
        },
        _ => Outcome::Permanent {
            reason: status_reason(status),
            status: Some(status),
        },
    }
}

/// The reason code of a status: `http_<code>` for the common ones, else `http_3xx`,
/// `http_4xx`, `http_5xx` or `http_other`.
pub(crate) fn status_reason(status: u16) -> &'static str {
    match status {
        300 => "http_300",
        301 => "http_301",
        302 => "http_302",
        303 => "http_303",
        304 => "http_304",
        307 => "http_307",
        308 => "http_308",
        400 => "http_400",
        401 => "http_401",
        402 => "http_402",
        403 => "http_403",
        404 => "http_404",
        405 => "http_405",
        406 => "http_406",
        408 => "http_408",
        409 => "http_409",
        410 => "http_410",
        411 => "http_411",
        412 => "http_412",
        413 => "http_413",
        414 => "http_414",
        415 => "http_415",
        421 => "http_421",
        422 => "http_422",
        425 => "http_425",
        426 => "http_426",
        428 => "http_428",
        429 => "http_429",
        431 => "http_431",
        451 => "http_451",
        500 => "http_500",
        501 => "http_501",
        502 => "http_502",
        503 => "http_503",
        504 => "http_504",
        505 => "http_505",
        507 => "http_507",
        508 => "http_508",
        _ => match status / 100 {
            3 => "http_3xx",
            4 => "http_4xx",
            5 => "http_5xx",
            _ => "http_other",
        },
    }
}

/// Reads `Retry-After`: seconds, or an HTTP date (a date in the past is no wait). At
/// most [`MAX_RETRY_AFTER`]; `None` when unreadable.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // a number too long for u64 is far beyond the cap
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn statuses_are_classed() {
        let refusal = ConflictMeans::Refusal;
        for s in [400, 401, 403, 404, 409, 410, 413, 415, 422, 451, 501, 505] {
            let o = classify_failure_status(s, None, refusal);
            assert_eq!(o.class(), "permanent", "{s}");
            assert_eq!(o.reason(), Some(status_reason(s)));
        }
        for s in [301, 302, 303, 307, 308] {
            assert_eq!(
                classify_failure_status(s, None, refusal).reason(),
                Some("redirect_refused")
            );
        }
        for s in [408, 425, 429] {
            let o = classify_failure_status(s, Some(Duration::from_secs(3)), refusal);
            assert_eq!(
                o,
                Outcome::Transient {
                    reason: status_reason(s),
                    status: Some(s),
                    retry_after: Some(Duration::from_secs(3)),
                    maybe_delivered: false
                }
            );
        }
        for s in [500, 502, 503, 504, 599] {
            let o = classify_failure_status(s, None, refusal);
            assert!(
                matches!(
                    o,
                    Outcome::Transient {
                        maybe_delivered: true,
                        ..
                    }
                ),
                "{s}"
            );
        }
        assert_eq!(status_reason(599), "http_5xx");
        assert_eq!(status_reason(499), "http_4xx");
        assert_eq!(
            classify_failure_status(409, None, ConflictMeans::AlreadyReceived),
            Outcome::Delivered {
                status: 409,
                receipt: None,
                at_platform: AtPlatform::AlreadyReceived
            }
        );
    }
}
