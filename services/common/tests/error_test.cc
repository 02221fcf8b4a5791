#include "kurz/common/error.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>

namespace kurz::common {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Error{ErrorKind::Invalid, "odd", "the number must be even"};
  return n / 2;
}

TEST(ResultTest, HoldsAValue) {
  const Result<int> r = half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 4);
  EXPECT_THROW(r.error(), std::bad_variant_access);
}

TEST(ResultTest, HoldsAnError) {
  const Result<int> r = half(3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
  EXPECT_EQ(r.error().code, "odd");
  EXPECT_THROW(r.value(), std::bad_variant_access);
}

TEST(ResultTest, MovesMoveOnlyValuesOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

TEST(ResultTest, VoidResult) {
  const Result<void> good;
  EXPECT_TRUE(good.ok());
  const Result<void> bad = Error{ErrorKind::NotFound, "not_found", "no such link"};
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "not_found");
}

TEST(ErrorKindTest, HasStableNames) {
  EXPECT_EQ(to_string(ErrorKind::Invalid), "invalid");
  EXPECT_EQ(to_string(ErrorKind::NotFound), "not_found");
  EXPECT_EQ(to_string(ErrorKind::Conflict), "conflict");
  EXPECT_EQ(to_string(ErrorKind::Gone), "gone");
  EXPECT_EQ(to_string(ErrorKind::Unavailable), "unavailable");
  EXPECT_EQ(to_string(ErrorKind::Internal), "internal");
}

}  // namespace
}  // namespace kurz::common
