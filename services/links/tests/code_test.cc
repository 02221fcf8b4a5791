#include "kurz/links/code.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "kurz/links/slug.h"

namespace kurz::links {
namespace {

bool is_base62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

TEST(EncodeCodeTest, DistinctIdsGiveDistinctWellFormedCodes) {
  std::unordered_set<std::string> seen;
  constexpr std::uint64_t kCount = 100'000;
  seen.reserve(kCount);
  for (std::uint64_t id = 1; id <= kCount; ++id) {
    const std::string code = encode_code(id);
    ASSERT_EQ(code.size(), kCodeLength) << id;
    for (const char c : code) ASSERT_TRUE(is_base62(c)) << code;
    ASSERT_TRUE(is_well_formed_code(code)) << code;
    ASSERT_TRUE(seen.insert(code).second) << "collision at id " << id;
  }
}

TEST(EncodeCodeTest, IsDeterministic) {
  EXPECT_EQ(encode_code(1), encode_code(1));
  EXPECT_EQ(encode_code(123456789), encode_code(123456789));
}

TEST(EncodeCodeTest, ConsecutiveIdsDoNotLookConsecutive) {
  const std::string a = encode_code(1000);
  const std::string b = encode_code(1001);
  int differing = 0;
  for (std::size_t i = 0; i < kCodeLength; ++i) differing += a[i] != b[i] ? 1 : 0;
  EXPECT_GE(differing, 4) << a << " " << b;
}

TEST(EncodeCodeTest, IdsWrapAroundTheCodeSpace) {
  EXPECT_EQ(encode_code(5), encode_code(5 + kCodeSpace));
  EXPECT_EQ(encode_code(kCodeSpace - 1).size(), kCodeLength);
  EXPECT_EQ(encode_code(UINT64_MAX).size(), kCodeLength);
}

}  // namespace
}  // namespace kurz::links
