// Typed instructions: what each Containerfile instruction means, with its
// flags checked (unknown, repeated, missing value, wrong type) and its
// arguments counted, as BuildKit's instructions package does.
//
// Values stay as written (unexpanded); StageExpander (build_plan.hpp) gives
// the expanded copy the builder uses. Errors read
// `FILE:LINE: INSTRUCTION: message`. Values, no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.hpp"
#include "parser/ast.hpp"
#include "parser/mount.hpp"

namespace kiln::parser {

enum class Kind {
  from,
  run,
  cmd,
  entrypoint,
  shell,
  env,
  label,
  maintainer,
  expose,
  add,
  copy,
  volume,
  user,
  workdir,
  arg,
  onbuild,
  stopsignal,
  healthcheck,
};
std::string_view kind_name(Kind kind);                      // "FROM"
std::optional<Kind> kind_from_word(std::string_view word);  // case-insensitive

// RUN / CMD / ENTRYPOINT: exec form keeps the JSON elements, shell form one
// string (the builder prepends the SHELL). Heredocs belong to RUN.
struct CommandLine {
  bool exec = false;
  std::vector<std::string> args;
  std::vector<Heredoc> heredocs;
};

// A COPY/ADD source written inline as a heredoc (`COPY <<EOF /dst`).
struct SourceContent {
  std::string path;  // the heredoc name, used as the file name
  std::string data;  // body, tabs already stripped for <<-
  bool expand = true;
};

struct FromData {
  std::string base;        // image or earlier stage, unexpanded
  std::string stage_name;  // lower case, "" when unnamed
  std::string platform;    // --platform, unexpanded
};
struct RunData {
  CommandLine command;
  std::vector<std::string> mounts;   // --mount values as written
  std::vector<Mount> parsed_mounts;  // filled by StageExpander (needs the stage's variables)
  std::string network = "default";   // default | none | host
  std::string security = "sandbox";  // sandbox | insecure
};
struct CmdData {
  CommandLine command;
};
struct EntrypointData {
  CommandLine command;
};
struct ShellData {
  std::vector<std::string> shell;
};
struct EnvData {
  std::vector<KeyValue> vars;
};
struct LabelData {
  std::vector<KeyValue> labels;
};
struct MaintainerData {
  std::string name;
};
struct ExposeData {
  std::vector<std::string> ports;
};  // "80/tcp", "8000-8010"
struct CopyData {
  std::vector<std::string> sources;
  std::vector<SourceContent> contents;
  std::string dest;
  std::string from, chown, chmod;
  bool link = false, parents = false;
  std::vector<std::string> excludes;
};
struct AddData {
  std::vector<std::string> sources;
  std::vector<SourceContent> contents;
  std::string dest;
  std::string chown, chmod, checksum;
  bool link = false, keep_git_dir = false;
  std::optional<bool> unpack;
  std::vector<std::string> excludes;
};
struct VolumeData {
  std::vector<std::string> paths;
};
struct UserData {
  std::string user;
};
struct WorkdirData {
  std::string path;
};
struct StopSignalData {
  std::string signal;
};
struct ArgDecl {
  std::string name;
  std::optional<std::string> value;  // the default, as written
};
struct ArgData {
  std::vector<ArgDecl> args;
};
struct Instruction;
struct OnbuildData {
  std::string expression;                      // the trigger as stored in an image config
  std::shared_ptr<const Instruction> trigger;  // null when the trigger does not parse
};
struct HealthcheckData {
  // {"NONE"}, {"CMD", args...} (exec form) or {"CMD-SHELL", command}.
  std::vector<std::string> test;
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;
};

using InstructionData =
    std::variant<FromData, RunData, CmdData, EntrypointData, ShellData, EnvData, LabelData,
                 MaintainerData, ExposeData, AddData, CopyData, VolumeData, UserData, WorkdirData,
                 ArgData, OnbuildData, StopSignalData, HealthcheckData>;

struct Instruction {
  Kind kind = Kind::from;
  Node node;  // the syntax it came from: lines, flags and arguments as written
  InstructionData data;

  template <class T>
  const T& as() const {
    return std::get<T>(data);
  }
  template <class T>
  T& as() {
    return std::get<T>(data);
  }
};

// Node → typed instruction. `filename` only prefixes error messages.
Result<Instruction> to_instruction(const Node& node, std::string_view filename);

// Go's time.ParseDuration, in nanoseconds.
Result<int64_t> parse_go_duration(std::string_view s);

}  // namespace kiln::parser
