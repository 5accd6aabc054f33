// Parser micro-benchmark (not a test): prints how long a 10,000-line
// Containerfile takes to parse, and how fast the ignore rules check paths
// while walking a 100,000-file context against 50 patterns.
//
//   bench_parse [CONTEXT_DIR]   (run.sh builds and runs it)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "parser/context_walk.hpp"
#include "parser/report.hpp"

using namespace kiln::parser;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A varied file: global ARGs, 50 stages, every common instruction, line
// continuations, heredocs, exec and shell forms, flags, variables.
std::string containerfile(int target_lines) {
  std::string s = "# syntax=docker/dockerfile:1\nARG BASE=debian:bookworm\nARG VERSION=1.2.3\n";
  int stage = 0;
  auto count = [&s] { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); };
  while (count() < target_lines) {
    std::string n = std::to_string(stage);
    s += "FROM --platform=$BUILDPLATFORM ${BASE} AS stage" + n + "\n";
    s += "ARG VERSION\nARG TARGETARCH\nENV APP_HOME=/opt/app" + n + " PATH=/opt/app/bin:$PATH\n";
    s += "WORKDIR $APP_HOME\nLABEL org.opencontainers.image.version=$VERSION stage=\"" + n + "\"\n";
    for (int i = 0; i < 20 && count() < target_lines; ++i) {
      std::string k = std::to_string(i);
      s += "RUN --mount=type=cache,target=/var/cache/apt,id=apt-" + n +
           " \\\n    apt-get update && \\\n    apt-get install -y pkg" + k +
           " curl git \\\n    && rm -rf /var/lib/apt/lists/*\n";
      s += "COPY --chown=1000:1000 --chmod=0644 src/" + k + "/ ${APP_HOME}/src/" + k + "/\n";
      s += "ENV KEY" + k + "=\"value " + k + "\" OTHER" + k + "=${APP_HOME:-/x}/" + k + "\n";
      s += "RUN <<EOF\nset -e\necho building " + k + "\nmake -j4 target" + k + "\nEOF\n";
      s += "EXPOSE 80" + k + "/tcp\nCMD [\"/opt/app/bin/server\", \"--port\", \"80" + k + "\"]\n";
    }
    if (stage > 0) s += "COPY --from=stage" + std::to_string(stage - 1) + " /opt /opt\n";
    ++stage;
  }
  return s;
}

// 100,000 files: 100 directories x 10 subdirectories x 100 files, with the
// names real trees have (sources, logs, caches, vendored code).
void make_context(const std::filesystem::path& root) {
  const char* exts[] = {".c", ".h", ".txt", ".log", ".py", ".go", ".md", ".tmp", ".o", ".json"};
  const char* subs[] = {"src",    "lib",          "docs",        "build",  "test",
                        "vendor", "node_modules", "__pycache__", "assets", "config"};
  std::filesystem::create_directories(root);
  for (int d = 0; d < 100; ++d)
    for (int s = 0; s < 10; ++s) {
      auto dir = root / ("pkg" + std::to_string(d)) / subs[s];
      std::filesystem::create_directories(dir);
      for (int f = 0; f < 100; ++f) {
        auto p = dir / ("file" + std::to_string(f) + exts[f % 10]);
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) ::close(fd);
      }
    }
}

const char* kPatterns =
    "# fifty patterns of the kind real projects use\n"
    "*.swp\n*.bak\n.git\n.hg\n.svn\n**/.DS_Store\n**/Thumbs.db\n*.pyc\n**/*.pyo\n.env\n"
    ".env.*\n!.env.example\n**/*.tmp\n**/*.temp\ncoverage\n**/coverage.out\n.idea\n**/__pycache__\n"
    "**/node_modules\ndist\nout\ntarget\n**/*.class\n**/*.jar\n**/*.war\n*.log\n**/"
    "logs\nnpm-debug.log*\n"
    "yarn-error.log\n.cache\n**/.pytest_cache\n**/.mypy_cache\n**/.tox\n*.egg-info\n"
    "**/build/*.o\n**/*.a\n**/*.so\nDockerfile*\n.dockerignore\ndocker-compose*.yml\n"
    "secrets/**\n!secrets/README.md\n**/testdata/large\n[Bb]in\n[Oo]bj\ntmp?\n"
    "pkg*/docs/**/*.pdf\n**/*.min.js\n*.orig\n**/vendor/**/*.md\n";

}  // namespace

int main(int argc, char** argv) {
  // --- Containerfile parsing
  std::string text = containerfile(10000);
  size_t nlines = std::count(text.begin(), text.end(), '\n');
  BuildOptions opts;
  opts.build_platform = *Platform::parse("linux/amd64");
  opts.target_platform = opts.build_platform;
  std::vector<double> parse_ms, full_ms;
  for (int run = 0; run < 15; ++run) {
    auto t0 = Clock::now();
    auto cf = parse_containerfile(text, "Containerfile");
    parse_ms.push_back(ms_since(t0));
    if (!cf) {
      std::fprintf(stderr, "parse failed: %s\n", cf.error().what().c_str());
      return 1;
    }
    t0 = Clock::now();
    auto r = parse_for_report(text, "Containerfile", opts);
    full_ms.push_back(ms_since(t0));
    if (!r) {
      std::fprintf(stderr, "plan failed: %s\n", r.error().what().c_str());
      return 1;
    }
  }
  std::sort(parse_ms.begin(), parse_ms.end());
  std::sort(full_ms.begin(), full_ms.end());
  std::printf("containerfile: %zu lines, %zu bytes\n", nlines, text.size());
  std::printf(
      "  parse (syntax + typed instructions): median %.2f ms, best %.2f ms  (target < 20 ms)\n",
      parse_ms[parse_ms.size() / 2], parse_ms[0]);
  std::printf("  parse + plan + expand every stage:   median %.2f ms, best %.2f ms\n",
              full_ms[full_ms.size() / 2], full_ms[0]);

  // --- Ignore rules over a 100,000-file context
  std::filesystem::path ctx = argc > 1 ? argv[1] : "/tmp/kiln-bench-context";
  if (!std::filesystem::exists(ctx / "pkg99/config/file99.json")) {
    auto t0 = Clock::now();
    make_context(ctx);
    std::printf("created context %s in %.0f ms\n", ctx.c_str(), ms_since(t0));
  }
  auto m = IgnoreMatcher::create(read_ignore_lines(kPatterns));
  if (!m) {
    std::fprintf(stderr, "%s\n", m.error().what().c_str());
    return 1;
  }
  std::printf("ignore patterns: %zu\n", m->size());

  // The walk with no rules gives every path, in walk order.
  IgnoreMatcher none;
  auto all = walk_context(ctx, none);
  if (!all) {
    std::fprintf(stderr, "%s\n", all.error().what().c_str());
    return 1;
  }
  std::vector<std::string> paths;
  for (auto& e : *all)
    paths.push_back(e.path);
  std::printf("context: %zu paths\n", paths.size());

  // Each measurement is repeated; the best run is the machine's speed, the
  // median shows the noise of a shared host.
  auto report = [&](const char* what, std::vector<double> ms, size_t excluded) {
    std::sort(ms.begin(), ms.end());
    std::printf("  %-44s best %.1f ms = %.2f M paths/s, median %.2f M/s (%zu excluded)\n", what,
                ms[0], paths.size() / ms[0] / 1000.0, paths.size() / ms[ms.size() / 2] / 1000.0,
                excluded);
  };

  // 1. MatchesOrParentMatches for every path (each path checked on its own,
  //    its parent directories re-checked against every pattern).
  std::vector<double> runs;
  size_t excluded = 0;
  for (int run = 0; run < 7; ++run) {
    excluded = 0;
    auto t0 = Clock::now();
    for (const std::string& p : paths)
      excluded += m->matches(p);
    runs.push_back(ms_since(t0));
  }
  report("path checks, each path on its own:", runs, excluded);

  // 2. As the context walk checks them: top-down, reusing the parent
  //    directory's per-pattern results (MatchesUsingParentResults).
  runs.clear();
  for (int run = 0; run < 7; ++run) {
    excluded = 0;
    static const IgnoreMatcher::PerPattern empty;
    std::vector<std::pair<std::string_view, IgnoreMatcher::PerPattern>> parents;
    IgnoreMatcher::PerPattern out;
    auto t0 = Clock::now();
    for (const std::string& p : paths) {
      size_t slash = p.rfind('/');
      std::string_view dir = std::string_view(p).substr(0, slash == std::string::npos ? 0 : slash);
      while (!parents.empty() && parents.back().first != dir)
        parents.pop_back();
      excluded += m->matches(p, parents.empty() ? empty : parents.back().second, out);
      parents.emplace_back(p, out);
    }
    runs.push_back(ms_since(t0));
  }
  report("path checks, walk order (parent results):", runs, excluded);

  // 3. The real walk: readdir, lstat, match, skipping excluded directories.
  WalkStats stats;
  auto t0 = Clock::now();
  auto kept = walk_context(ctx, *m, &stats);
  double t_real = ms_since(t0);
  if (!kept) {
    std::fprintf(stderr, "%s\n", kept.error().what().c_str());
    return 1;
  }
  std::printf(
      "  walk_context with the rules: %.1f ms, %zu kept, %llu checked, %llu dirs skipped unread\n",
      t_real, kept->size(), static_cast<unsigned long long>(stats.checks),
      static_cast<unsigned long long>(stats.dirs_skipped));
  return 0;
}
