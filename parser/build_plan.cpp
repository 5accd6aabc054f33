// plan_build: global ARGs, stage bases, the stage graph and the target.
#include "parser/build_plan.hpp"

#include <functional>

#include "parser/flags.hpp"
#include "parser/text.hpp"

namespace kiln::parser {

bool is_proxy_arg(std::string_view n) {
  static const char* names[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                "ALL_PROXY",  "all_proxy"};
  for (const char* p : names)
    if (n == p) return true;
  return false;
}

Result<int> resolve_stage_ref(const Containerfile& cf, std::string_view ref, bool allow_index) {
  if (allow_index && !ref.empty()) {
    // strconv.Atoi: optional sign, decimal digits.
    size_t i = (ref[0] == '+' || ref[0] == '-') ? 1 : 0;
    bool numeric = i < ref.size() && ref.size() - i <= 18;
    for (size_t k = i; numeric && k < ref.size(); ++k)
      numeric = ref[k] >= '0' && ref[k] <= '9';
    if (numeric) {
      long long n = std::stoll(std::string(ref));
      if (n < 0 || n >= static_cast<long long>(cf.stages.size()))
        return fail("invalid stage index ", std::to_string(n));
      return static_cast<int>(n);
    }
  }
  return cf.find_stage(ref);
}

namespace {

std::string err_prefix(const Containerfile& cf, const Instruction& ins) {
  return location_prefix(cf.filename, ins.node.line) + ins.node.name() + ": ";
}

// The stage-graph edges of one stage, with the instruction that makes each.
struct Edge {
  int to;
  const Instruction* by;
};

Result<std::vector<Edge>> stage_edges(const Containerfile& cf, const Stage& st, StagePlan& sp,
                                      std::vector<Diagnostic>& warnings) {
  std::vector<Edge> edges;
  std::vector<std::string> stage_names;
  for (const Stage& s : cf.stages)
    if (!s.name.empty()) stage_names.push_back(s.name);
  auto note_image = [&](const Instruction& ins, const std::string& ref, const char* what) {
    sp.images.push_back(ref);
    std::string hint = detail::suggest(ref, stage_names, "");
    if (!hint.empty())
      warnings.push_back({ins.node.line, std::string(what) + "=" + ref +
                                             " is not a stage name, so it is pulled as an image" +
                                             hint});
  };
  for (size_t i = 1; i < st.instructions.size(); ++i) {
    const Instruction& ins = st.instructions[i];
    if (ins.kind == Kind::copy) {
      const std::string& from = ins.as<CopyData>().from;
      if (from.empty()) continue;
      auto idx = resolve_stage_ref(cf, from, true);
      if (!idx) return fail(err_prefix(cf, ins), idx.error().message);
      if (*idx >= 0)
        edges.push_back({*idx, &ins});
      else
        note_image(ins, from, "--from");
    } else if (ins.kind == Kind::run) {
      for (const std::string& spec : ins.as<RunData>().mounts) {
        std::string from = mount_from(spec);
        int idx = cf.find_stage(from.empty() ? "scratch" : from);
        if (idx >= 0)
          edges.push_back({idx, &ins});
        else if (!from.empty())
          note_image(ins, from, "--mount from");
      }
    }
  }
  return edges;
}

}  // namespace

Result<BuildPlan> plan_build(const Containerfile& cf, const BuildOptions& opts) {
  BuildPlan plan;
  const Platform& bp = opts.build_platform;
  const Platform& tp = opts.target_platform;
  std::string target_name = opts.target;
  const std::pair<const char*, std::string> predefined[] = {{"BUILDPLATFORM", bp.str()},
                                                            {"BUILDOS", bp.os},
                                                            {"BUILDOSVERSION", ""},
                                                            {"BUILDARCH", bp.architecture},
                                                            {"BUILDVARIANT", bp.variant},
                                                            {"TARGETPLATFORM", tp.str()},
                                                            {"TARGETOS", tp.os},
                                                            {"TARGETOSVERSION", ""},
                                                            {"TARGETARCH", tp.architecture},
                                                            {"TARGETVARIANT", tp.variant},
                                                            {"TARGETSTAGE", target_name}};
  for (auto& [name, value] : predefined) {
    auto it = opts.build_args.find(name);
    plan.global_args.push_back({name, it != opts.build_args.end() ? it->second : value});
  }

  // Global scope as BuildKit builds it: an ARG without a value is "" here.
  VarMap global;
  auto refresh = [&] {
    for (const ArgValue& a : plan.global_args)
      global.set(a.name, a.value.value_or(""));
  };
  refresh();
  ShellExpander sx;
  sx.escape = cf.directives.escape;
  for (const Instruction& ins : cf.global_args) {
    Instruction expanded = ins;
    for (ArgDecl& decl : expanded.as<ArgData>().args) {
      auto it = opts.build_args.find(decl.name);
      if (it != opts.build_args.end()) {
        decl.value = it->second;
      } else if (decl.value) {
        auto v = sx.expand(*decl.value, global);
        if (!v) return fail(err_prefix(cf, ins), v.error().message);
        decl.value = *v;
      }
      plan.global_args.push_back({decl.name, decl.value});
      global.set(decl.name, decl.value.value_or(""));
    }
    plan.global_arg_instructions.push_back(std::move(expanded));
  }

  std::vector<std::vector<Edge>> edges(cf.stages.size());
  for (const Stage& st : cf.stages) {
    StagePlan sp;
    sp.index = st.index;
    sp.name = st.display_name();
    const FromData& from = st.from_data();
    const std::string prefix = err_prefix(cf, st.from());
    auto base = sx.expand(from.base, global);
    if (!base) return fail(prefix, base.error().message);
    if (base->empty()) return fail(prefix, "base name (", from.base, ") should not be blank");
    sp.base = *base;
    // Only earlier stages, matched exactly against the lower-case names.
    for (int i = st.index - 1; i >= 0; --i)
      if (!cf.stages[i].name.empty() && cf.stages[i].name == sp.base) {
        sp.base_stage = i;
        break;
      }
    if (sp.base_stage < 0 && sp.base != text::to_lower(sp.base))
      for (int i = st.index - 1; i >= 0; --i)
        if (cf.stages[i].name == text::to_lower(sp.base)) {
          plan.warnings.push_back(
              {st.from().node.line, "FROM " + sp.base + " is not stage " +
                                        text::go_quote(cf.stages[i].name) +
                                        " (stage names match case-sensitively in FROM): it is "
                                        "pulled as an image"});
          break;
        }
    if (!from.platform.empty()) {
      auto p = sx.expand(from.platform, global);
      if (!p) return fail(prefix, "failed to process arguments for platform: ", p.error().message);
      if (p->empty()) return fail(prefix, "empty platform value from expression ", from.platform);
      auto parsed = Platform::parse(*p);
      if (!parsed)
        return fail(prefix, "failed to parse platform ", from.platform, ": ",
                    parsed.error().message);
      sp.platform = parsed->str();
    }
    plan.stages.push_back(std::move(sp));
  }

  for (const Stage& st : cf.stages) {
    TRY_ASSIGN(edges[st.index], stage_edges(cf, st, plan.stages[st.index], plan.warnings));
    for (const Edge& e : edges[st.index])
      plan.stages[st.index].deps.push_back(e.to);
  }

  // Cycles through COPY --from / RUN --mount, reported on the first
  // instruction of the loop, as BuildKit does.
  std::vector<int> state(cf.stages.size(), 0);  // 0 new, 1 on path, 2 done
  std::function<const Instruction*(int, const Instruction*)> visit =
      [&](int s, const Instruction* first) -> const Instruction* {
    state[s] = 1;
    for (const Edge& e : edges[s]) {
      const Instruction* f = first ? first : e.by;
      if (state[e.to] == 1) return f;
      if (state[e.to] == 0)
        if (const Instruction* c = visit(e.to, f)) return c;
    }
    state[s] = 2;
    return nullptr;
  };
  for (const Stage& st : cf.stages) {
    if (state[st.index] != 0) continue;
    if (const Instruction* c = visit(st.index, nullptr))
      return fail(err_prefix(cf, *c), "circular dependency detected on stage: ", st.display_name());
  }

  if (opts.target.empty()) {
    plan.target = static_cast<int>(cf.stages.size()) - 1;
  } else {
    plan.target = cf.find_stage(opts.target);
    if (plan.target < 0)
      return fail(location_prefix(cf.filename, 0), "target stage ", text::go_quote(opts.target),
                  " could not be found");
  }
  std::vector<int> todo = {plan.target};
  while (!todo.empty()) {
    int s = todo.back();
    todo.pop_back();
    StagePlan& sp = plan.stages[s];
    if (sp.needed) continue;
    sp.needed = true;
    if (sp.base_stage >= 0) todo.push_back(sp.base_stage);
    for (int d : sp.deps)
      todo.push_back(d);
  }

  // Build args nobody declares are probably typos; BuildKit ignores them.
  for (const auto& [name, _] : opts.build_args) {
    bool used = is_proxy_arg(name);
    for (const ArgValue& a : plan.global_args)
      used |= a.name == name;
    for (const Stage& st : cf.stages) {
      if (!plan.stages[st.index].needed) continue;
      for (const Instruction& ins : st.instructions)
        if (ins.kind == Kind::arg)
          for (const ArgDecl& d : ins.as<ArgData>().args)
            used |= d.name == name;
    }
    if (!used)
      plan.warnings.push_back({0, "build-arg " + text::go_quote(name) + " was not consumed"});
  }
  return plan;
}

}  // namespace kiln::parser
