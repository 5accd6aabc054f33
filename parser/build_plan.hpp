// From a parsed Containerfile to what a build does: global ARGs resolved
// with --build-arg and the predefined platform ARGs, each stage's base
// (image or earlier stage), the stage graph (FROM <stage>, COPY --from,
// RUN --mount from=), the target and the stages it needs, and, per stage,
// the instructions with their arguments expanded as BuildKit expands them.
//
// ARG scoping follows BuildKit: ARGs before the first FROM are visible in
// FROM lines only, unless a stage declares `ARG NAME` again; a --build-arg
// overrides a declared ARG's default; ENV and ARG values are visible to
// later instructions of the same stage; a stage built FROM another stage
// inherits its ENV. Proxy ARGs (HTTP_PROXY, ...) reach RUN without a
// declaration and are never written into the image.
//
// Errors read `FILE:LINE: INSTRUCTION: message`. Values; no shared state.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/platform.hpp"
#include "base/result.hpp"
#include "parser/containerfile.hpp"
#include "parser/shell_expander.hpp"

namespace kiln::parser {

// FROM --platform and the BUILD*/TARGET* ARGs use the one platform type,
// normalised as containerd (and so BuildKit) normalises it.
using Platform = kiln::Platform;

struct BuildOptions {
  std::map<std::string, std::string> build_args;  // --build-arg K=V
  std::string target;                             // --target; "" = the last stage
  Platform build_platform = Platform::host();
  Platform target_platform = Platform::host();
};

struct ArgValue {
  std::string name;
  std::optional<std::string> value;  // nullopt: declared without a value
};

struct StagePlan {
  int index = 0;
  std::string name;                 // display name ("build" or "stage-1")
  std::string base;                 // FROM argument after expansion
  int base_stage = -1;              // FROM <earlier stage>, else -1
  std::string platform;             // --platform after expansion, or ""
  std::vector<int> deps;            // stages used by COPY --from / RUN --mount from=
  std::vector<std::string> images;  // images used by COPY --from / RUN --mount from=
  bool needed = false;              // false: the target does not need it (pruned)
};

struct BuildPlan {
  std::vector<ArgValue> global_args;  // predefined platform ARGs, then the global ARGs
  std::vector<Instruction> global_arg_instructions;  // expanded (each value resolved)
  std::vector<StagePlan> stages;
  int target = 0;
  std::vector<Diagnostic> warnings;
};

Result<BuildPlan> plan_build(const Containerfile& cf, const BuildOptions& opts);

// The environment variables `NAME=VALUE`, as image configs store them.
using EnvList = std::vector<std::string>;

// Expands one stage's instructions in order, keeping its variables. Build a
// stage after its base: pass the base image's config Env, or for FROM <stage>
// that stage's image_env() and vars() (a BuildKit child stage starts from its
// parent's build state, so the parent's ARG values stay visible). PATH is
// added when the image env has none, as BuildKit does.
class StageExpander {
 public:
  StageExpander(const Containerfile& cf, const BuildPlan& plan, const BuildOptions& opts, int stage,
                const EnvList& base_env, const VarMap* inherited = nullptr);

  // The expanded copy of `ins` (an instruction of this stage, in order).
  // ENV and ARG update the variables seen by later instructions.
  Result<Instruction> expand(const Instruction& ins);

  const EnvList& image_env() const { return image_env_; }  // ENV (for the image config)
  EnvList run_env() const;  // image env + ARG values + proxy build args (for RUN)
  const VarMap& vars() const { return vars_; }

 private:
  Result<std::string> word(std::string_view w) const;
  void set_env(const std::string& k, const std::string& v);

  const Containerfile& cf_;
  const BuildPlan& plan_;
  const BuildOptions& opts_;
  int stage_;
  ShellExpander sx_;
  VarMap vars_;
  EnvList image_env_;
  std::vector<std::pair<std::string, std::string>> args_;  // ARG values in order
};

// Every needed stage expanded in order; entries for pruned stages are empty.
// Base images are not pulled, so their ENV is unknown: only the default PATH.
Result<std::vector<std::optional<std::vector<Instruction>>>> expand_stages(
    const Containerfile& cf, const BuildPlan& plan, const BuildOptions& opts);

// A COPY --from / RUN --mount from= value: stage index, or -1 for an image.
// Numbers are stage indexes ("invalid stage index N" when out of range).
Result<int> resolve_stage_ref(const Containerfile& cf, std::string_view ref, bool allow_index);

bool is_proxy_arg(std::string_view name);

}  // namespace kiln::parser
