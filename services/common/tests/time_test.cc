#include "kurz/common/time.h"

#include <gtest/gtest.h>

#include <string>

namespace kurz::common {
namespace {

using namespace std::chrono_literals;

TimePoint at(std::int64_t seconds) { return TimePoint{} + std::chrono::seconds(seconds); }

TEST(FormatRfc3339Test, FormatsUtcWithoutFractionWhenWholeSeconds) {
  EXPECT_EQ(format_rfc3339(TimePoint{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(at(1795476426)), "2026-11-23T23:27:06Z");
  EXPECT_EQ(format_rfc3339(at(951782400)), "2000-02-29T00:00:00Z");
}

TEST(FormatRfc3339Test, AddsMillisecondsOnlyWhenNonZero) {
  EXPECT_EQ(format_rfc3339(at(1795476426) + 123ms), "2026-11-23T23:27:06.123Z");
  EXPECT_EQ(format_rfc3339(at(1795476426) + 5ms + 999us), "2026-11-23T23:27:06.005Z");
  EXPECT_EQ(format_rfc3339(at(1795476426) + 999us), "2026-11-23T23:27:06Z");
}

TEST(FormatRfc3339Test, HandlesInstantsBefore1970) {
  EXPECT_EQ(format_rfc3339(at(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(at(-1) + 500ms), "1969-12-31T23:59:59.500Z");
}

TEST(FormatDayTest, FormatsTheUtcDay) {
  EXPECT_EQ(format_day(at(1795476426)), "2026-11-23");
  EXPECT_EQ(format_day(at(-1)), "1969-12-31");
  EXPECT_EQ(day_number(at(86399)), 0);
  EXPECT_EQ(day_number(at(-1)), -1);
  EXPECT_EQ(format_day_number(20415), "2025-11-23");
}

TEST(ParseRfc3339Test, AcceptsValidForms) {
  const TimePoint base = at(1795476426);
  EXPECT_EQ(parse_rfc3339("2026-11-23T23:27:06Z"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-23t23:27:06z"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-24T01:27:06+02:00"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-23T18:57:06-04:30"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-23T23:27:06-00:00"), base);
  EXPECT_EQ(parse_rfc3339("2026-11-23T23:27:06.5Z"), base + 500ms);
  EXPECT_EQ(parse_rfc3339("2026-11-23T23:27:06.123456789Z"), base + 123456789ns);
  EXPECT_EQ(parse_rfc3339("2026-11-23T23:27:06.1234567891234Z"), base + 123456789ns);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), at(1709164800));
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), at(-1));
}

TEST(ParseRfc3339Test, RoundTripsWithFormat) {
  for (const TimePoint t :
       {at(0), at(1795476426) + 7ms, at(4102444799) + 999ms, at(-86400 * 365)}) {
    const auto parsed = parse_rfc3339(format_rfc3339(t));
    ASSERT_TRUE(parsed.has_value()) << format_rfc3339(t);
    EXPECT_EQ(*parsed, t);
  }
}

TEST(ParseRfc3339Test, RejectsInvalidInput) {
  for (const char* text : {
           "",
           "garbage",
           "2026-11-23",
           "2026-11-23T23:27:06",        // no offset
           "2026-11-23 23:27:06Z",       // space separator
           "2026-11-23T23:27Z",          // no seconds
           "2026-11-23T23:27:06.Z",      // empty fraction
           "2026-11-23T23:27:06ZZ",      // trailing junk
           "2026-11-23T23:27:06Z ",      // trailing space
           " 2026-11-23T23:27:06Z",      // leading space
           "2026-13-01T00:00:00Z",       // month
           "2026-00-01T00:00:00Z",       // month
           "2026-02-30T00:00:00Z",       // Feb 30
           "2025-02-29T00:00:00Z",       // not a leap year
           "1900-02-29T00:00:00Z",       // not a leap year
           "2026-04-31T00:00:00Z",       // April has 30 days
           "2026-11-00T00:00:00Z",       // day
           "2026-11-23T24:00:00Z",       // hour
           "2026-11-23T23:60:00Z",       // minute
           "2026-11-23T23:59:60Z",       // leap second
           "2026-11-23T23:27:06+24:00",  // offset hour
           "2026-11-23T23:27:06+02:60",  // offset minute
           "2026-11-23T23:27:06+0200",   // offset without colon
           "2026-11-23T23:27:06+02",     // short offset
           "+2026-11-23T23:27:06Z",      // sign
           "20261-11-23T23:27:06Z",      // five-digit year
           "2026-1-23T23:27:06Z",        // one-digit month
           "9999-12-31T23:59:59Z",       // beyond what the clock can hold
           "0001-01-01T00:00:00Z",       // beyond what the clock can hold
           "2026-11-23T23:27:06\0Z",
       }) {
    EXPECT_FALSE(parse_rfc3339(text).has_value()) << text;
  }
  EXPECT_FALSE(parse_rfc3339(std::string_view("2026-11-23T23:27:06Z\0", 21)).has_value());
}

}  // namespace
}  // namespace kurz::common
