//! A strict parser for the NMEA 0183 sentences that carry time: RMC, ZDA and GGA.
//!
//! Owns: checksum validation and the UTC fields of those sentences. Never: trusts input; any
//! byte string yields a value or an error, never a panic (a fuzz target checks this).

use crate::time::{Span, UtcNanos};
use chrono::NaiveDate;
use thiserror::Error;

/// A parsed time-bearing sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NmeaSentence {
    /// `$--RMC`: recommended minimum data, with the date.
    Rmc {
        /// UTC of the fix.
        time: UtcNanos,
        /// Status `A` (valid fix) versus `V` (receiver warning).
        valid: bool,
    },
    /// `$--ZDA`: date and time.
    Zda {
        /// UTC of the sentence's second.
        time: UtcNanos,
    },
    /// `$--GGA`: fix data; only the time of day, no date.
    Gga {
        /// Time since UTC midnight.
        time_of_day: Span,
        /// Fix quality (0 = no fix).
        quality: u8,
    },
}

/// Why a line is not a usable sentence.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum NmeaError {
    /// Framing: `$`, body, `*`, two hex digits.
    #[error("expected `$<body>*<two hex digits>`, got {0:?}")]
    Framing(String),
    /// The checksum does not match.
    #[error("expected checksum {expected:02X}, got {found:02X}")]
    Checksum {
        /// XOR of the body bytes.
        expected: u8,
        /// The checksum written in the sentence.
        found: u8,
    },
    /// A sentence type this parser does not read.
    #[error("expected an RMC, ZDA or GGA sentence, got {0:?}")]
    Unsupported(String),
    /// A field is missing or malformed.
    #[error("expected {what} in field {index}, got {found:?}")]
    Field {
        /// What the field should hold.
        what: &'static str,
        /// Field number (0 = the address field).
        index: usize,
        /// The text found.
        found: String,
    },
}

/// XOR of the bytes of `body` (the text between `$` and `*`), NMEA 0183's checksum.
pub fn checksum(body: &str) -> u8 {
    body.bytes().fold(0, |acc, b| acc ^ b)
}

/// `$<body>*<checksum>\r\n`: frames a body as a sentence.
pub fn frame(body: &str) -> String {
    format!("${body}*{:02X}\r\n", checksum(body))
}

/// Parses one sentence; surrounding whitespace (the `\r\n`) is ignored.
pub fn parse_sentence(line: &str) -> Result<NmeaSentence, NmeaError> {
    let line = line.trim();
    let framing = || NmeaError::Framing(truncate(line));
    let rest = line.strip_prefix('$').ok_or_else(framing)?;
    let (body, sum) = rest.rsplit_once('*').ok_or_else(framing)?;
    if sum.len() != 2 || !body.is_ascii() {
        return Err(framing());
    }
    let found = u8::from_str_radix(sum, 16).map_err(|_| framing())?;
    let expected = checksum(body);
    if expected != found {
        return Err(NmeaError::Checksum { expected, found });
    }
    let fields: Vec<&str> = body.split(',').collect();
    let address = fields[0];
    if address.len() != 5 {
        return Err(NmeaError::Unsupported(truncate(address)));
    }
    match &address[2..] {
        "RMC" => {
            let tod = time_of_day(&fields, 1)?;
            let valid = match field(&fields, 2)? {
                "A" => true,
                "V" => false,
                other => return Err(bad("status A or V", 2, other)),
            };
            let date = field(&fields, 9)?;
            let (d, m, y) = match (num(date, 0..2), num(date, 2..4), num(date, 4..6)) {
                (Some(d), Some(m), Some(y)) if date.len() == 6 => (d, m, y),
                _ => return Err(bad("a date ddmmyy", 9, date)),
            };
            // NMEA two-digit years: GPS started in 1980, so 80–99 are the 1900s.
            let year = if y >= 80 { 1900 + y } else { 2000 + y };
            Ok(NmeaSentence::Rmc {
                time: at(year, m, d, tod).ok_or_else(|| bad("a calendar date", 9, date))?,
                valid,
            })
        }
        "ZDA" => {
            let tod = time_of_day(&fields, 1)?;
            let day = field(&fields, 2)?;
            let month = field(&fields, 3)?;
            let year = field(&fields, 4)?;
            let parse = |s: &str, i| s.parse::<u32>().map_err(|_| bad("a number", i, s));
            let (d, m, y) = (parse(day, 2)?, parse(month, 3)?, parse(year, 4)?);
            Ok(NmeaSentence::Zda {
                time: at(y, m, d, tod).ok_or_else(|| bad("a calendar date", 4, year))?,
            })
        }
        "GGA" => {
            let time_of_day = time_of_day(&fields, 1)?;
            let q = field(&fields, 6)?;
            let quality = q.parse().map_err(|_| bad("a fix quality 0-9", 6, q))?;
            Ok(NmeaSentence::Gga {
                time_of_day,
                quality,
            })
        }
        other => Err(NmeaError::Unsupported(truncate(other))),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn bad(what: &'static str, index: usize, found: &str) -> NmeaError {
    NmeaError::Field {
        what,
        index,
        found: truncate(found),
    }
}

fn field<'a>(fields: &[&'a str], i: usize) -> Result<&'a str, NmeaError> {
    fields.get(i).copied().ok_or_else(|| bad("a field", i, ""))
}

fn num(s: &str, r: std::ops::Range<usize>) -> Option<u32> {
    let part = s.get(r)?;
    if part.bytes().all(|b| b.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

/// `hhmmss[.fff…]` to time since midnight. A leap second `ss = 60` reads as a repeat of second
/// 59, the way POSIX clocks label it (see `specs/time.md`).
fn time_of_day(fields: &[&str], i: usize) -> Result<Span, NmeaError> {
    let s = field(fields, i)?;
    let err = || bad("a time hhmmss[.fff]", i, s);
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.len() != 6 || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let (h, m, sec) = match (num(whole, 0..2), num(whole, 2..4), num(whole, 4..6)) {
        (Some(h), Some(m), Some(sec)) if h < 24 && m < 60 && sec <= 60 => (h, m, sec.min(59)),
        _ => return Err(err()),
    };
    let mut nanos: u64 = 0;
    for (k, b) in frac.bytes().enumerate() {
        nanos += u64::from(b - b'0') * 10u64.pow(8 - k as u32);
    }
    let secs = u64::from(h) * 3600 + u64::from(m) * 60 + u64::from(sec);
    Ok(Span(secs * 1_000_000_000 + nanos))
}

fn at(year: u32, month: u32, day: u32, tod: Span) -> Option<UtcNanos> {
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let midnight = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    let day_nanos = midnight.checked_mul(1_000_000_000)?;
    Some(UtcNanos(day_nanos.checked_add(i64::try_from(tod.0).ok()?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmc_with_valid_checksum_gives_date_and_time() {
        let s = frame("GPRMC,123519.50,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W");
        let NmeaSentence::Rmc { time, valid } = parse_sentence(&s).unwrap() else {
            panic!("not RMC")
        };
        assert!(valid);
        assert_eq!(time, UtcNanos(764_426_119_500_000_000));
    }

    #[test]
    fn zda_gives_a_four_digit_year_date() {
        let s = frame("GPZDA,000001.00,01,01,2017,00,00");
        assert_eq!(
            parse_sentence(&s).unwrap(),
            NmeaSentence::Zda {
                time: UtcNanos::from_parts(1_483_228_801, 0)
            }
        );
    }

    #[test]
    fn corrupted_byte_is_caught_by_the_checksum() {
        let s = frame("GPZDA,000001.00,01,01,2017,00,00").replace("2017", "2018");
        assert!(matches!(
            parse_sentence(&s),
            Err(NmeaError::Checksum { .. })
        ));
    }

    #[test]
    fn leap_second_sixty_reads_as_a_repeat_of_fifty_nine() {
        let s = frame("GPZDA,235960.00,31,12,2016,00,00");
        let t = parse_sentence(&s).unwrap();
        assert_eq!(
            t,
            NmeaSentence::Zda {
                time: UtcNanos::from_parts(1_483_228_799, 0)
            }
        );
    }

    #[test]
    fn gga_gives_time_of_day_and_fix_quality() {
        let s = frame("GPGGA,010203.25,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,");
        assert_eq!(
            parse_sentence(&s).unwrap(),
            NmeaSentence::Gga {
                time_of_day: Span(3_723_250_000_000),
                quality: 1
            }
        );
    }
}
