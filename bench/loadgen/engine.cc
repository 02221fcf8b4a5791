#include "engine.h"

namespace kurz::load {

std::optional<Result> run_rate(const Options&, const BaseUrl&, const Address&,
                               const std::vector<Link>&, const std::string&, std::string& error) {
  error = "--mode rate is not built yet in this commit";
  return std::nullopt;
}

}  // namespace kurz::load
