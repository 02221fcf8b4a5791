#include "fuzz_support.h"

#include "kurz/links/url.h"

namespace kurz::fuzz {

void check_reply(const platform::Reply& reply) {
  require(reply.status >= 200 && reply.status <= 599, "status in 200..599");
  require(header_safe(reply.content_type), "content type without CR, LF, NUL");
  for (const auto& [name, value] : reply.headers) {
    require(!name.empty() && header_safe(name) && header_safe(value), "header without CR, LF, NUL");
    if (name == "Location") {
      require(value.rfind("/api/links/", 0) == 0 || !links::validate_url(value),
              "Location is the API path or a valid http(s) URL");
    }
  }
}

}  // namespace kurz::fuzz
