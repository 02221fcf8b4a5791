#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kurz/common/clock.h"

namespace kurz::common {

// RFC 3339 in UTC, e.g. "2026-11-23T23:27:06Z"; milliseconds ("...06.123Z") are added only when
// non-zero, and anything finer is truncated. Independent of locale and time zone settings.
std::string format_rfc3339(TimePoint t);

// Strict RFC 3339: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". 'T' and 'Z' may be lower case;
// the fraction has at least one digit (digits after the ninth are ignored). Returns nullopt for
// anything else: out-of-range fields, impossible dates (Feb 30, Feb 29 in non-leap years), leap
// seconds (":60"), surrounding whitespace, trailing junk, or instants the clock cannot represent.
std::optional<TimePoint> parse_rfc3339(std::string_view s);

// The UTC calendar day of `t`, e.g. "2026-11-23".
std::string format_day(TimePoint t);

// Days since 1970-01-01 (UTC) of `t`, rounding towards the past; the inverse of format_day's
// calendar arithmetic, exposed for day-bucketed counters.
std::int64_t day_number(TimePoint t);

// "YYYY-MM-DD" for a day number as returned by day_number().
std::string format_day_number(std::int64_t day);

}  // namespace kurz::common
