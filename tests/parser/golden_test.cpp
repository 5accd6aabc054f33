// Golden cases: tests/parser/cases/<name>/Containerfile parsed, planned and
// expanded; the `kiln parse --format json` document must equal expected.json,
// or the error must equal expected_error.txt. expected_warnings.txt, when
// present, lists the warnings. An optional `options` file holds lines
// `build-arg K=V`, `target T`, `platform OS/ARCH`, `build-platform OS/ARCH`.
// Platforms default to linux/amd64 so results do not depend on the host.
//
// KILN_ACCEPT=1 rewrites the expected files from the current output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "parser/report.hpp"

namespace fs = std::filesystem;
using namespace kiln::parser;

namespace {

fs::path cases_dir() {
  return fs::path(KILN_SOURCE_DIR) / "tests/parser/cases";
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(cases_dir()))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void store(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

bool accepting() {
  const char* v = std::getenv("KILN_ACCEPT");
  return v && std::string(v) == "1";
}

BuildOptions read_options(const fs::path& dir) {
  BuildOptions o;
  o.build_platform = *Platform::parse("linux/amd64");
  o.target_platform = o.build_platform;
  std::istringstream in(slurp(dir / "options"));
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    std::string key = line.substr(0, sp), val = line.substr(sp + 1);
    if (key == "build-arg") {
      auto eq = val.find('=');
      o.build_args[val.substr(0, eq)] = eq == std::string::npos ? "" : val.substr(eq + 1);
    } else if (key == "target") {
      o.target = val;
    } else if (key == "platform") {
      o.target_platform = *Platform::parse(val);
    } else if (key == "build-platform") {
      o.build_platform = *Platform::parse(val);
    } else {
      ADD_FAILURE() << dir << ": unknown option " << key;
    }
  }
  return o;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, Matches) {
  const fs::path dir = cases_dir() / GetParam();
  const fs::path json = dir / "expected.json", err = dir / "expected_error.txt",
                 warn = dir / "expected_warnings.txt";
  ASSERT_TRUE(fs::exists(dir / "Containerfile")) << dir;
  auto r = parse_for_report(slurp(dir / "Containerfile"), "Containerfile", read_options(dir));
  std::string warnings;
  if (r)
    for (const std::string& w : r->warnings())
      warnings += w + "\n";

  if (accepting()) {
    if (r) {
      store(json, render_json(r->cf, r->plan, r->expanded));
      fs::remove(err);
    } else {
      store(err, r.error().what() + "\n");
      fs::remove(json);
    }
    if (warnings.empty())
      fs::remove(warn);
    else
      store(warn, warnings);
    return;
  }

  if (fs::exists(err)) {
    ASSERT_FALSE(r) << "expected an error, got:\n" << render_json(r->cf, r->plan, r->expanded);
    EXPECT_EQ(r.error().what() + "\n", slurp(err));
    return;
  }
  ASSERT_TRUE(fs::exists(json)) << "no expected.json or expected_error.txt in " << dir
                                << " (run with KILN_ACCEPT=1 to create them)";
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(render_json(r->cf, r->plan, r->expanded), slurp(json));
  EXPECT_EQ(warnings, fs::exists(warn) ? slurp(warn) : std::string());
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(case_names()), [](const auto& info) {
  std::string n = info.param;
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

}  // namespace
