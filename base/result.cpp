#include "base/result.hpp"

#include <cstring>

namespace kiln {

std::string Error::what() const {
  std::string out;
  for (auto it = context.rbegin(); it != context.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += message;
  return out;
}

tl::unexpected<Error> fail_errno(int err, std::string msg) {
  msg += ": ";
  msg += std::strerror(err);
  return tl::unexpected<Error>(Error{std::move(msg), {}, 0, {}, err});
}

Error with_context(Error e, std::string ctx) {
  e.context.push_back(std::move(ctx));
  return e;
}

}  // namespace kiln
