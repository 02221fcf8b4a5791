#include "mix.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kurz::load {
namespace {

TEST(MixTest, ParsesAndDefaults) {
  std::string error;
  const auto mix = Mix::parse("redirect=8,qr=2", error);
  ASSERT_TRUE(mix) << error;
  EXPECT_EQ(mix->weight[0], 8);
  EXPECT_EQ(mix->weight[1], 0);
  EXPECT_EQ(mix->weight[3], 2);
  EXPECT_DOUBLE_EQ(mix->share(Kind::kQr), 0.2);
  EXPECT_EQ(mix->to_string(), "redirect=8,create=0,stats=0,qr=2");
  EXPECT_EQ(Mix().total(), 100);
}

TEST(MixTest, RejectsBadInput) {
  for (const char* bad : {"", "redirect", "redirect=x", "redirect=-1", "foo=1", "redirect=0",
                          "redirect=1,redirect=2", "redirect=1,", "redirect=1.5"}) {
    std::string error;
    EXPECT_FALSE(Mix::parse(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(MixTest, KindPickerFollowsTheWeights) {
  std::string error;
  const KindPicker picker(*Mix::parse("redirect=90,create=3,stats=4,qr=3", error));
  std::mt19937_64 random(3);
  int counts[kKinds] = {};
  const int n = 200000;
  for (int i = 0; i < n; ++i) ++counts[static_cast<int>(picker.pick(random))];
  EXPECT_NEAR(counts[0] / double(n), 0.90, 0.005);
  EXPECT_NEAR(counts[1] / double(n), 0.03, 0.003);
  EXPECT_NEAR(counts[2] / double(n), 0.04, 0.003);
  EXPECT_NEAR(counts[3] / double(n), 0.03, 0.003);
}

TEST(ZipfTest, HotRanksDominate) {
  const ZipfPicker zipf(1000, 1.0);
  double harmonic = 0;
  for (int r = 1; r <= 1000; ++r) harmonic += 1.0 / r;
  EXPECT_NEAR(zipf.probability(0), 1 / harmonic, 1e-9);
  EXPECT_NEAR(zipf.probability(9), 0.1 / harmonic, 1e-9);
  std::mt19937_64 random(5);
  std::vector<int> hits(1000);
  const int n = 200000;
  for (int i = 0; i < n; ++i) ++hits[zipf.pick(random)];
  EXPECT_NEAR(hits[0] / double(n), 1 / harmonic, 0.01);
  EXPECT_GT(hits[0], 50 * hits[500]);
}

TEST(ZipfTest, UniformAndSingle) {
  const ZipfPicker flat(4, 0.0);
  EXPECT_NEAR(flat.probability(3), 0.25, 1e-12);
  const ZipfPicker one(1, 1.0);
  std::mt19937_64 random(1);
  EXPECT_EQ(one.pick(random), 0u);
}

}  // namespace
}  // namespace kurz::load
