#include "options.h"

#include <gtest/gtest.h>

#include "url.h"

namespace kurz::load {
namespace {

ParseResult parse(const std::vector<std::string>& args) { return parse_options(args); }

TEST(OptionsTest, TheDocumentedInterface) {
  const auto r = parse({"--base-url", "http://127.0.0.1:8080", "--mode", "rate", "--rate", "200",
                        "--duration", "3", "--warmup=0", "--connections", "16", "--mix",
                        "redirect=1", "--links", "10", "--out", "x.json"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->mode, Mode::kRate);
  EXPECT_DOUBLE_EQ(r.options->rate, 200);
  EXPECT_DOUBLE_EQ(r.options->duration_s, 3);
  EXPECT_DOUBLE_EQ(r.options->warmup_s, 0);
  EXPECT_EQ(r.options->connections, 16);
  EXPECT_EQ(r.options->links, 10);
  EXPECT_EQ(r.options->out, "x.json");
}

TEST(OptionsTest, SaturateChecksOnASampleByDefault) {
  const auto lean = parse({"--base-url", "http://x", "--mode", "saturate"});
  ASSERT_TRUE(lean.options) << lean.error;
  EXPECT_EQ(lean.options->check, Check::kSample);
  EXPECT_EQ(lean.options->check_sample, 100);
  EXPECT_TRUE(lean.options->path.empty());
  const auto every = parse(
      {"--base-url", "http://x", "--mode", "saturate", "--check", "every", "--check-sample", "0"});
  ASSERT_TRUE(every.options) << every.error;
  EXPECT_EQ(every.options->check, Check::kEvery);
  EXPECT_EQ(every.options->check_sample, 0);
  const auto one = parse({"--base-url", "http://x", "--mode", "saturate", "--path", "/qr/a.png"});
  ASSERT_TRUE(one.options) << one.error;
  EXPECT_EQ(one.options->path, "/qr/a.png");
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"--base-url", "http://x", "--mode", "saturate", "--check", "most"},
           {"--base-url", "http://x", "--mode", "saturate", "--check-sample", "-1"},
           {"--base-url", "http://x", "--mode", "saturate", "--path", "x"},
           {"--base-url", "http://x", "--mode", "saturate", "--path", "/a b"},
           {"--base-url", "http://x", "--mode", "saturate", "--check", "every", "--path", "/x"},
           {"--base-url", "http://x", "--mode", "rate", "--rate", "5", "--path", "/x"}}) {
    const auto r = parse(bad);
    EXPECT_FALSE(r.options) << bad.back();
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(OptionsTest, UsageErrors) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"--mode", "rate", "--rate", "5"},
      {"--base-url", "http://x", "--mode", "fast"},
      {"--base-url", "http://x", "--mode", "rate"},
      {"--base-url", "http://x", "--mode", "rate", "--rate", "-1"},
      {"--base-url", "http://x", "--mode", "saturate", "--rate", "10"},
      {"--base-url", "http://x", "--mode", "saturate", "--duration", "0"},
      {"--base-url", "http://x", "--mode", "saturate", "--connections", "many"},
      {"--base-url", "http://x", "--mode", "saturate", "--links"},
      {"--base-url", "http://x", "--mode", "saturate", "--bogus", "1"},
      {"--base-url", "http://x", "--mode", "saturate", "--codes", "f", "--links", "5"},
      {"--base-url", "http://x", "--mode", "saturate", "--mix", "redirect=a"},
  };
  for (const auto& args : bad) {
    const auto r = parse(args);
    EXPECT_FALSE(r.options) << (args.empty() ? "(none)" : args.back());
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(UrlTest, Parses) {
  std::string error;
  auto u = BaseUrl::parse("http://127.0.0.1:8080/", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->prefix, "");
  EXPECT_EQ(u->text, "http://127.0.0.1:8080");
  u = BaseUrl::parse("http://lb.marathon.mesos/kurz/", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->prefix, "/kurz");
  EXPECT_EQ(u->host_header(), "lb.marathon.mesos");
  u = BaseUrl::parse("http://[::1]:9000", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->host_header(), "[::1]:9000");
  for (const char* bad : {"https://x", "ftp://x", "http://", "http://x:0", "http://x:99999",
                          "http://x:", "http://x/?q=1", "127.0.0.1:80"}) {
    EXPECT_FALSE(BaseUrl::parse(bad, error)) << bad;
  }
}

}  // namespace
}  // namespace kurz::load
