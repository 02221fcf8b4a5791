#include "kurz/links/link_service.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kurz/links/code.h"
#include "kurz/links/memory_link_store.h"

namespace kurz::links {
namespace {

using namespace std::chrono_literals;
using common::ErrorKind;

const TimePoint kStart = TimePoint{} + std::chrono::seconds(1795476426);

class LinkServiceTest : public ::testing::Test {
 protected:
  MemoryLinkStore store_;
  common::ManualClock clock_{kStart + 123456us};
  LinkService service_{store_, clock_};
};

TEST_F(LinkServiceTest, CreatesWithAGeneratedCode) {
  auto link = service_.create({"https://example.com/a", std::nullopt, std::nullopt});
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(link.value().code.size(), kCodeLength);
  EXPECT_EQ(link.value().url, "https://example.com/a");
  EXPECT_EQ(link.value().created_at, kStart + 123ms);  // truncated to milliseconds
  EXPECT_FALSE(link.value().expires_at.has_value());
  auto fetched = service_.get(link.value().code);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched.value(), link.value());
}

TEST_F(LinkServiceTest, CreatesWithACustomSlug) {
  auto link = service_.create({"https://example.com/", std::string("my-link"), std::nullopt});
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link.value().code, "my-link");
  auto again = service_.create({"https://other.example/", std::string("my-link"), std::nullopt});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::Conflict);
  EXPECT_EQ(again.error().code, "slug_taken");
  EXPECT_EQ(service_.get("my-link").value().url, "https://example.com/");
}

TEST_F(LinkServiceTest, RejectsInvalidInput) {
  const auto code_of = [&](const CreateLink& request) {
    auto result = service_.create(request);
    EXPECT_FALSE(result.ok());
    if (!result.ok()) {
      EXPECT_EQ(result.error().kind, ErrorKind::Invalid);
    }
    return result.ok() ? std::string("ok") : result.error().code;
  };
  EXPECT_EQ(code_of({"javascript:alert(1)", std::nullopt, std::nullopt}), "invalid_url");
  EXPECT_EQ(code_of({"https://example.com", std::string("a b"), std::nullopt}), "invalid_slug");
  EXPECT_EQ(code_of({"https://example.com", std::string("Health"), std::nullopt}), "slug_reserved");
  EXPECT_EQ(code_of({"https://example.com", std::nullopt, clock_.now()}), "invalid_expiry");
  EXPECT_EQ(code_of({"https://example.com", std::nullopt, kStart - 1h}), "invalid_expiry");
  EXPECT_EQ(code_of({"https://example.com", std::nullopt, kStart + 24h * 36600}), "invalid_expiry");
  EXPECT_TRUE(store_.list({std::nullopt, 10}).value().items.empty());
}

TEST_F(LinkServiceTest, AcceptsAFutureExpiry) {
  auto link = service_.create({"https://example.com", std::nullopt, kStart + 1h});
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link.value().expires_at, kStart + 1h);
}

TEST_F(LinkServiceTest, GeneratedCodesSkipTakenCodes) {
  // Claim the code the next id would get, as if a user had chosen it as a slug.
  const std::string next = encode_code(1);
  ASSERT_TRUE(store_.insert({next, "https://taken.example/", kStart, std::nullopt}));
  auto link = service_.create({"https://example.com", std::nullopt, std::nullopt});
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link.value().code, encode_code(2));
}

class FullStore final : public LinkStore {
 public:
  common::Result<std::uint64_t> next_id() override { return ++ids_; }
  common::Result<bool> insert(const Link&) override { return false; }
  common::Result<std::optional<Link>> find(std::string_view) const override {
    return std::optional<Link>();
  }
  common::Result<bool> remove(std::string_view) override { return false; }
  common::Result<LinkPage> list(const ListQuery&) const override { return LinkPage{}; }
  std::uint64_t ids_ = 0;
};

TEST(LinkServiceGenerationTest, GivesUpAfterBoundedAttempts) {
  FullStore store;
  common::ManualClock clock(kStart);
  LinkService service(store, clock);
  auto link = service.create({"https://example.com", std::nullopt, std::nullopt});
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.error().kind, ErrorKind::Unavailable);
  EXPECT_EQ(link.error().code, "code_generation_failed");
  EXPECT_LE(store.ids_, 16U);
}

TEST_F(LinkServiceTest, GetReturnsExpiredLinksAndNotFoundForAnythingElse) {
  ASSERT_TRUE(service_.create({"https://example.com", std::string("soon"), kStart + 1h}).ok());
  clock_.advance(2h);
  EXPECT_TRUE(service_.get("soon").ok());
  for (const std::string& code :
       {std::string("nope"), std::string(""), std::string("../etc"), std::string(500, 'a'),
        std::string("\xFF\xFE"), std::string("SOON")}) {
    auto result = service_.get(code);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(result.error().code, "not_found");
  }
}

TEST_F(LinkServiceTest, ListValidatesLimitAndPaginates) {
  for (std::size_t bad : {std::size_t{0}, std::size_t{101}, SIZE_MAX}) {
    auto result = service_.list({std::nullopt, bad});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "invalid_parameter");
  }
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    created.push_back(
        service_.create({"https://example.com/" + std::to_string(i), std::nullopt, std::nullopt})
            .value()
            .code);
  }
  auto page = service_.list({std::nullopt, 5});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page.value().items.size(), 5U);
  EXPECT_EQ(page.value().items.front().code, created.back());
  auto rest = service_.list({page.value().next_cursor, 100});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest.value().items.size(), 2U);
  EXPECT_EQ(rest.value().items.back().code, created.front());
  EXPECT_EQ(service_.list({std::string("junk"), 5}).error().code, "invalid_cursor");
}

TEST_F(LinkServiceTest, RemoveDeletesAndReportsMissing) {
  ASSERT_TRUE(
      service_.create({"https://example.com", std::string("gone-soon"), std::nullopt}).ok());
  EXPECT_TRUE(service_.remove("gone-soon").ok());
  EXPECT_EQ(service_.get("gone-soon").error().kind, ErrorKind::NotFound);
  EXPECT_EQ(service_.remove("gone-soon").error().kind, ErrorKind::NotFound);
  EXPECT_EQ(service_.remove("x").error().kind, ErrorKind::NotFound);
  EXPECT_TRUE(service_.list({std::nullopt, 10}).value().items.empty());
}

TEST_F(LinkServiceTest, ConcurrentCreatesGiveDistinctCodes) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  std::vector<std::vector<std::string>> codes(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &codes] {
      for (int i = 0; i < kPerThread; ++i) {
        auto link = service_.create({"https://example.com/", std::nullopt, std::nullopt});
        ASSERT_TRUE(link.ok());
        codes[static_cast<std::size_t>(t)].push_back(std::move(link).value().code);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> distinct;
  for (const auto& list : codes) distinct.insert(list.begin(), list.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace kurz::links
