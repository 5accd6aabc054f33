// Hostile archives, generated here: every case is rejected or neutralised, and
// a sentinel tree beside the root is proven untouched (both with openat2 and
// with the hand-written O_NOFOLLOW walk).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "layers/apply.hpp"
#include "layers/rooted.hpp"
#include "tests/layers/helpers.hpp"
#include "tests/layers/raw_tar.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using layers::ApplyOptions;

struct Case {
  std::string name;
  std::vector<RawEntry> entries;
};

class Hostile : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    layers::RootDir::force_manual_walk(GetParam());
    write_text(s_ / "sentinel/precious", "keep");
    fs::create_directories(s_ / "sentinel/dir");
    write_text(s_ / "root/etc/passwd", "root:x:0:0::/:/bin/sh\n");
    fs::create_directories(s_ / "root/sub");
  }
  void TearDown() override { layers::RootDir::force_manual_walk(false); }

  // Everything outside root/, as a snapshot.
  std::string outside() { return snapshot(s_ / "sentinel") + read_text(s_ / "sentinel/precious"); }

  Result<layers::ApplyStats> apply(const std::vector<RawEntry>& entries, ApplyOptions opts = {}) {
    StringReader r(raw_tar(entries));
    return layers::apply_tar(r, s_ / "root", opts, "hostile.tar");
  }

  Scratch s_;
};

TEST_P(Hostile, EveryCaseLeavesTheSentinelAlone) {
  std::string abs = (s_ / "sentinel").string();
  std::vector<Case> cases = {
      {"dotdot", {{.name = "../sentinel/precious", .data = "pwned"}}},
      {"dotdot-deep", {{.name = "sub/../../sentinel/precious", .data = "pwned"}}},
      {"absolute", {{.name = abs + "/precious", .data = "pwned"}}},
      {"symlink-parent-abs",
       {{.name = "esc", .type = '2', .link = abs}, {.name = "esc/precious", .data = "pwned"}}},
      {"symlink-parent-rel",
       {{.name = "up", .type = '2', .link = "../../.."},
        {.name = "up" + abs + "/precious", .data = "pwned"}}},
      {"symlink-then-write",
       {{.name = "link", .type = '2', .link = abs + "/precious"},
        {.name = "link", .data = "pwned"}}},
      {"symlink-dir-then-dir",
       {{.name = "d", .type = '2', .link = abs + "/dir"},
        {.name = "d", .type = '5', .mode = 0777},
        {.name = "d/new", .data = "x"}}},
      {"hardlink-outside-rel", {{.name = "h", .type = '1', .link = "../sentinel/precious"}}},
      {"hardlink-outside-abs", {{.name = "h", .type = '1', .link = abs + "/precious"}}},
      {"hardlink-via-symlink",
       {{.name = "esc", .type = '2', .link = abs},
        {.name = "h", .type = '1', .link = "esc/precious"}}},
      {"whiteout-dotdot", {{.name = "sub/.wh...", .data = ""}}},
      {"whiteout-dotdot-root", {{.name = ".wh...", .data = ""}}},
      {"whiteout-empty", {{.name = ".wh.", .data = ""}}},
      {"whiteout-through-symlink",
       {{.name = "esc", .type = '2', .link = abs}, {.name = "esc/.wh.precious", .data = ""}}},
      {"opaque-through-symlink",
       {{.name = "esc", .type = '2', .link = abs}, {.name = "esc/.wh..wh..opq", .data = ""}}},
      {"opaque-root", {{.name = ".wh..wh..opq"}, {.name = "kept", .data = "x"}}},
      {"whiteout-root-slash", {{.name = "/.wh..wh..opq"}}},
      {"long-component", {{.name = std::string(300, 'a'), .data = "x"}}},
      {"4k-name",
       {{.name =
             [] {
               std::string n;
               while (n.size() < 4200)
                 n += std::string(200, 'n') + "/";
               return n + "f";
             }(),
         .data = "x"}}},
      {"duplicates",
       {{.name = "dup", .data = "one"},
        {.name = "dup", .data = "two"},
        {.name = "dup", .type = '5'},
        {.name = "dup/x", .data = "three"},
        {.name = "dup", .data = "four"}}},
      {"invalid-utf8", {{.name = "bad\xff\xfe\x80name", .data = "x"}}},
      {"huge-sparse",
       {{.name = "big",
         .data = std::string("1\n0\n5\n") + std::string(506, '\0') + "hello",
         .pax = {{"GNU.sparse.major", "1"},
                 {"GNU.sparse.minor", "0"},
                 {"GNU.sparse.name", "big"},
                 {"GNU.sparse.realsize", "1125899906842624"}}}}},
      {"device", {{.name = "null", .type = '3', .mode = 0666, .dev_major = 1, .dev_minor = 3}}},
  };
  for (auto& c : cases) {
    std::string before = outside();
    for (bool privileged : {true, false}) {
      ApplyOptions opts;
      opts.privileged = privileged && ::geteuid() == 0;
      auto r = apply(c.entries, opts);
      EXPECT_EQ(outside(), before) << c.name;
      EXPECT_EQ(read_text(s_ / "sentinel/precious"), "keep") << c.name;
      if (c.name == "symlink-then-write" && r) {
        struct stat st;
        ASSERT_EQ(::lstat((s_ / "root/link").c_str(), &st), 0);
        EXPECT_TRUE(S_ISREG(st.st_mode)) << "the symlink is replaced, not written through";
      }
      if (c.name == "device") {
        struct stat st;
        bool made = ::lstat((s_ / "root/null").c_str(), &st) == 0;
        EXPECT_EQ(made, opts.privileged) << "devices only where permitted";
        if (!opts.privileged) {
          EXPECT_EQ(r->skipped, 1);
        }
        fs::remove(s_ / "root/null");
      }
      if (c.name == "duplicates" && r) {
        EXPECT_EQ(read_text(s_ / "root/dup"), "four");
      }
      if (c.name == "invalid-utf8" && r) {
        EXPECT_TRUE(fs::exists(s_ / "root/bad\xff\xfe\x80name"));
      }
      for (const char* must_fail :
           {"dotdot", "dotdot-deep", "hardlink-outside-rel", "whiteout-dotdot",
            "whiteout-dotdot-root", "whiteout-empty", "long-component", "huge-sparse"})
        if (c.name == must_fail) {
          EXPECT_FALSE(r.has_value()) << c.name;
        }
      if (c.name == "opaque-root" || c.name == "whiteout-root-slash") {
        ASSERT_TRUE(r.has_value()) << r.error().what();
        // The root's own lower content is hidden; nothing beside it is.
        EXPECT_FALSE(fs::exists(s_ / "root/etc/passwd")) << c.name;
        write_text(s_ / "root/etc/passwd", "root:x:0:0::/:/bin/sh\n");
      }
    }
  }
}

// A million empty entries, scaled down: what makes them hostile is memory or
// time that grows faster than the entry count, and that shows at any size.
// The same stream is applied at two sizes four times apart: peak RSS (reset
// between runs) must not grow, and CPU time must grow about linearly (4×;
// quadratic work would be 16×). KILN_HOSTILE_ENTRIES sets the larger size
// (1000000 for the real thing).
struct ManyRun {
  double cpu_seconds;
  long peak_kib;
};

ManyRun apply_many(int64_t count, const fs::path& root) {
  std::ofstream("/proc/self/clear_refs") << "5";  // resets the peak RSS (VmHWM)
  fs::remove_all(root);
  fs::create_directories(root);
  auto cpu = [] {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  };
  double t0 = cpu();
  ManyEntriesReader r(count);
  auto st = layers::apply_tar(r, root, {}, "many.tar");
  double t1 = cpu();
  EXPECT_TRUE(st.has_value()) << st.error().what();
  if (st) {
    EXPECT_EQ(st->entries, count);
  }
  EXPECT_TRUE(fs::exists(root / "d0/f999"));
  long peak = 0;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmHWM:")) peak = std::atol(line.c_str() + 6);
  return {t1 - t0, peak};
}

TEST_P(Hostile, AMillionEmptyEntriesStayFlat) {
  int64_t big = GetParam() ? 40'000 : 100'000;  // the hand walk is slower
#ifdef __SANITIZE_ADDRESS__
  big = 40'000;  // each entry ~6x slower: this run is for memory safety
#endif
  if (const char* n = std::getenv("KILN_HOSTILE_ENTRIES")) big = std::atoll(n);
  // Inodes on tmpfs cost no disk time, which would only add noise.
  fs::path root = s_ / "root";
  std::unique_ptr<Scratch> shm;
  if (fs::is_directory("/dev/shm")) {
    setenv("TMPDIR", "/dev/shm", 1);
    shm = std::make_unique<Scratch>();
    unsetenv("TMPDIR");
    root = shm->path() / "root";
  }
  apply_many(big / 4, root);  // warm-up: first-use costs out of the way
  ManyRun small = apply_many(big / 4, root);
  ManyRun large = apply_many(big, root);
  RecordProperty("cpu_seconds", std::to_string(large.cpu_seconds));
  EXPECT_LT(large.cpu_seconds, 8 * std::max(small.cpu_seconds, 0.05))
      << small.cpu_seconds << " s for " << big / 4 << " entries";
#ifndef __SANITIZE_ADDRESS__  // ASan's quarantine keeps freed memory: RSS measures it, not kiln
  EXPECT_LT(large.peak_kib - small.peak_kib, 8 * 1024) << "KiB more peak RSS for 4x the entries";
  EXPECT_LT(large.peak_kib, 128 * 1024) << "KiB peak RSS";
#endif
}

INSTANTIATE_TEST_SUITE_P(Walk, Hostile, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "manual" : "openat2"; });

}  // namespace
}  // namespace kiln::test
