#include "kurz/links/link.h"

#include <gtest/gtest.h>

namespace kurz::links {
namespace {

using namespace std::chrono_literals;

TEST(LinkTest, WithoutExpiryNeverExpires) {
  const Link link{"abc", "https://example.com", TimePoint{}, std::nullopt};
  EXPECT_FALSE(link.expired_at(TimePoint{} + 1000000h));
}

TEST(LinkTest, ExpiresAtTheExpiryInstant) {
  const TimePoint expiry = TimePoint{} + 10h;
  const Link link{"abc", "https://example.com", TimePoint{}, expiry};
  EXPECT_FALSE(link.expired_at(expiry - 1ns));
  EXPECT_TRUE(link.expired_at(expiry));
  EXPECT_TRUE(link.expired_at(expiry + 1h));
}

}  // namespace
}  // namespace kurz::links
