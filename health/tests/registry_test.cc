#include "kurz/health/registry.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kurz::health {
namespace {

TEST(RegistryTest, EmptyRegistryIsHealthy) {
  Registry registry;
  EXPECT_TRUE(registry.evaluate(Probe::Liveness).ok);
  EXPECT_TRUE(registry.evaluate(Probe::Readiness).ok);
  EXPECT_EQ(to_json(registry.evaluate(Probe::Readiness)), R"({"status":"ok","checks":{}})");
}

TEST(RegistryTest, ReadinessFailureDoesNotTouchLiveness) {
  Registry registry;
  registry.add("process", Probe::Liveness, [] { return CheckResult{true, "serving"}; });
  registry.add("redis", Probe::Readiness, [] { return CheckResult{false, "connection refused"}; });
  const auto live = registry.evaluate(Probe::Liveness);
  EXPECT_TRUE(live.ok);
  ASSERT_EQ(live.checks.size(), 1u);
  const auto ready = registry.evaluate(Probe::Readiness);
  EXPECT_FALSE(ready.ok);
  ASSERT_EQ(ready.checks.size(), 2u);
  EXPECT_EQ(to_json(ready),
            R"({"status":"fail","checks":{"process":{"status":"ok","detail":"serving"},)"
            R"("redis":{"status":"fail","detail":"connection refused"}}})");
}

TEST(RegistryTest, ThrowingCheckFailsInsteadOfEscaping) {
  Registry registry;
  registry.add("broken", Probe::Liveness,
               []() -> CheckResult { throw std::runtime_error("boom"); });
  const auto report = registry.evaluate(Probe::Readiness);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.checks.at(0).second.detail, "check failed: boom");
}

TEST(RegistryTest, JsonEscapesDetails) {
  Registry registry;
  registry.add("q\"uote", Probe::Liveness, [] { return CheckResult{true, "a\\b\n"}; });
  EXPECT_EQ(to_json(registry.evaluate(Probe::Liveness)),
            R"({"status":"ok","checks":{"q\"uote":{"status":"ok","detail":"a\\b\u000a"}}})");
}

}  // namespace
}  // namespace kurz::health
