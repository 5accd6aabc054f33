// libFuzzer target: any bytes as a Containerfile. Parsing, planning,
// expansion and both renderings must return an error or a result, never
// crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::parser;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const BuildOptions opts = [] {
    BuildOptions o;
    o.build_platform = *Platform::parse("linux/amd64");
    o.target_platform = *Platform::parse("linux/arm/v7");
    o.build_args = {{"VERSION", "1.0"}, {"HTTP_PROXY", "http://proxy"}};
    return o;
  }();
  if (auto r = parse_for_report(text, "Containerfile", opts)) {
    (void)render_json(r->cf, r->plan, r->expanded);
    (void)render_text(r->cf, r->plan, r->expanded);
    (void)r->warnings();
  }
  (void)parse_instruction_line(text, '`');
  return 0;
}
