#include "parser/report.hpp"

#include "parser/json_writer.hpp"
#include "parser/line_args.hpp"
#include "parser/text.hpp"

namespace kiln::parser {

namespace {

bool has_form(std::string_view kw) {
  for (const char* k : {"run", "cmd", "entrypoint", "shell", "copy", "add", "volume"})
    if (text::iequals(kw, k)) return true;
  return false;
}

void form_json(JsonWriter& w, const Node& n) {
  bool applies = has_form(n.keyword) ? (!n.args.empty() || n.json)
                                     : text::iequals(n.keyword, "healthcheck") && n.args.size() > 1;
  if (applies)
    w.string(n.json ? "exec" : "shell");
  else
    w.null();
}

void heredocs_json(JsonWriter& w, const Node& n) {
  w.begin_array();
  for (const Heredoc& h : n.heredocs) {
    w.begin_object();
    w.key("name").string(h.name);
    w.key("content").string(h.content);
    w.key("expand").boolean(h.expand);
    w.key("chomp").boolean(h.chomp);
    w.end_object();
  }
  w.end_array();
}

void node_json(JsonWriter& w, const Node& n, bool top);

// Arguments "as the reference splits them", unexpanded.
void args_json(JsonWriter& w, const Node& n) {
  w.begin_array();
  if (text::iequals(n.keyword, "env") || text::iequals(n.keyword, "label")) {
    for (const KeyValue& kv : n.pairs) {
      w.begin_object().key("key").string(kv.key).key("value").string(kv.value);
      w.end_object();
    }
  } else if (text::iequals(n.keyword, "arg")) {
    for (const std::string& a : n.args) {
      size_t eq = a.find('=');
      w.begin_object().key("name").string(a.substr(0, eq)).key("default");
      if (eq == std::string::npos)
        w.null();
      else
        w.string(a.substr(eq + 1));
      w.end_object();
    }
  } else if (text::iequals(n.keyword, "onbuild")) {
    for (const Node& t : n.trigger)
      node_json(w, t, false);
  } else {
    for (const std::string& a : n.args)
      w.string(a);
  }
  w.end_array();
}

void node_json(JsonWriter& w, const Node& n, bool top) {
  if (!top) w.begin_object();
  w.key("instruction").string(n.name());
  if (top) {
    w.key("line").number(n.line);
    w.key("end_line").number(n.end_line);
  }
  w.key("original").string(n.original);
  w.key("flags").string_array(n.flags);
  w.key("form");
  form_json(w, n);
  w.key("args");
  args_json(w, n);
  w.key("heredocs");
  heredocs_json(w, n);
  if (!top) w.end_object();
}

// COPY/ADD arguments after expansion: heredoc words stay, paths expand.
std::vector<std::string> copy_args(const Node& n, const std::vector<std::string>& sources,
                                   const std::string& dest) {
  std::vector<std::string> out;
  size_t next = 0;
  for (size_t i = 0; i + 1 < n.args.size(); ++i) {
    auto h = detail::parse_heredoc_word(n.args[i]);
    if (h && *h)
      out.push_back(n.args[i]);
    else
      out.push_back(next < sources.size() ? sources[next++] : n.args[i]);
  }
  out.push_back(dest);
  return out;
}

void expanded_json(JsonWriter& w, const Instruction& e) {
  const Node& n = e.node;
  switch (e.kind) {
    case Kind::from: {
      std::vector<std::string> args = n.args;
      args[0] = e.as<FromData>().base;
      w.string_array(args);
      return;
    }
    case Kind::env:
    case Kind::label: {
      const auto& kvs = e.kind == Kind::env ? e.as<EnvData>().vars : e.as<LabelData>().labels;
      w.begin_array();
      for (const KeyValue& kv : kvs)
        w.begin_object().key("key").string(kv.key).key("value").string(kv.value).end_object();
      w.end_array();
      return;
    }
    case Kind::arg:
      w.begin_array();
      for (const ArgDecl& d : e.as<ArgData>().args) {
        w.begin_object().key("name").string(d.name).key("value");
        if (d.value)
          w.string(*d.value);
        else
          w.null();
        w.end_object();
      }
      w.end_array();
      return;
    case Kind::expose:
      w.string_array(e.as<ExposeData>().ports);
      return;
    case Kind::copy:
      w.string_array(copy_args(n, e.as<CopyData>().sources, e.as<CopyData>().dest));
      return;
    case Kind::add:
      w.string_array(copy_args(n, e.as<AddData>().sources, e.as<AddData>().dest));
      return;
    case Kind::user:
      w.string_array({e.as<UserData>().user});
      return;
    case Kind::workdir:
      w.string_array({e.as<WorkdirData>().path});
      return;
    case Kind::stopsignal:
      w.string_array({e.as<StopSignalData>().signal});
      return;
    case Kind::volume:
      w.string_array(e.as<VolumeData>().paths);
      return;
    default:
      w.null();
  }
}

// Flags with the values the builder uses: only FROM --platform, COPY/ADD
// --chown, ADD --checksum and RUN --mount are expanded.
bool expands_flags(Kind k) {
  return k == Kind::from || k == Kind::copy || k == Kind::add || k == Kind::run;
}

std::vector<std::string> expanded_flags(const Instruction& e) {
  std::vector<std::string> out;
  size_t mount = 0;
  for (const std::string& f : e.node.flags) {
    std::string name = f.substr(0, f.find('='));
    if (e.kind == Kind::from && name == "--platform")
      out.push_back(name + "=" + e.as<FromData>().platform);
    else if (e.kind == Kind::copy && name == "--chown")
      out.push_back(name + "=" + e.as<CopyData>().chown);
    else if (e.kind == Kind::add && name == "--chown")
      out.push_back(name + "=" + e.as<AddData>().chown);
    else if (e.kind == Kind::add && name == "--checksum")
      out.push_back(name + "=" + e.as<AddData>().checksum);
    else if (e.kind == Kind::run && name == "--mount" && mount < e.as<RunData>().mounts.size())
      out.push_back(name + "=" + e.as<RunData>().mounts[mount++]);
    else
      out.push_back(f);
  }
  return out;
}

void expanded_flags_json(JsonWriter& w, const Instruction& e) {
  if (expands_flags(e.kind))
    w.string_array(expanded_flags(e));
  else
    w.null();
}

void instruction_json(JsonWriter& w, const Instruction& ins, const Instruction* exp) {
  w.begin_object();
  node_json(w, ins.node, true);
  w.key("expanded");
  if (exp)
    expanded_json(w, *exp);
  else
    w.null();
  w.key("expanded_flags");
  if (exp)
    expanded_flags_json(w, *exp);
  else
    w.null();
  // COPY/ADD heredoc files as they will be written (tabs stripped, expanded).
  w.key("expanded_heredocs");
  const std::vector<SourceContent>* contents = nullptr;
  if (exp && exp->kind == Kind::copy) contents = &exp->as<CopyData>().contents;
  if (exp && exp->kind == Kind::add) contents = &exp->as<AddData>().contents;
  if (contents) {
    w.begin_array();
    for (const SourceContent& c : *contents)
      w.begin_object().key("name").string(c.path).key("content").string(c.data).end_object();
    w.end_array();
  } else {
    w.null();
  }
  w.end_object();
}

void optional_string(JsonWriter& w, const std::optional<std::string>& s) {
  if (s)
    w.string(*s);
  else
    w.null();
}

}  // namespace

Result<ParseResult> parse_for_report(std::string_view text, std::string_view filename,
                                     const BuildOptions& opts) {
  ParseResult r;
  TRY_ASSIGN(r.cf, parse_containerfile(text, filename));
  TRY_ASSIGN(r.plan, plan_build(r.cf, opts));
  TRY_ASSIGN(r.expanded, expand_stages(r.cf, r.plan, opts));
  return r;
}

std::vector<std::string> ParseResult::warnings() const {
  std::vector<std::string> out;
  for (const auto* list : {&cf.warnings, &plan.warnings})
    for (const Diagnostic& d : *list)
      out.push_back(location_prefix(cf.filename, d.line) + d.message);
  return out;
}

std::string render_json(const Containerfile& cf, const BuildPlan& plan,
                        const ExpandedStages& expanded) {
  JsonWriter w;
  w.begin_object();
  w.key("directives").begin_object();
  w.key("syntax");
  optional_string(w, cf.directives.syntax);
  w.key("escape").string(std::string(1, cf.directives.escape));
  w.key("check");
  optional_string(w, cf.directives.check);
  w.end_object();

  w.key("stages").begin_array();
  for (const Stage& st : cf.stages) {
    const StagePlan& sp = plan.stages[st.index];
    w.begin_object();
    w.key("index").number(st.index);
    w.key("name");
    optional_string(w, st.name.empty() ? std::nullopt : std::optional<std::string>(st.name));
    w.key("base").string(sp.base);
    w.key("platform");
    optional_string(w,
                    sp.platform.empty() ? std::nullopt : std::optional<std::string>(sp.platform));
    w.key("base_stage");
    if (sp.base_stage >= 0)
      w.number(sp.base_stage);
    else
      w.null();
    w.key("depends_on").begin_array();
    for (int d : sp.deps)
      w.number(d);
    w.end_array();
    w.key("needed").boolean(sp.needed);
    w.key("instructions").begin_array();
    const auto& exp = expanded[st.index];
    for (size_t i = 0; i < st.instructions.size(); ++i)
      instruction_json(w, st.instructions[i], exp ? &(*exp)[i] : nullptr);
    w.end_array();
    w.end_object();
  }
  w.end_array();

  w.key("global_args").begin_array();
  for (size_t i = 0; i < cf.global_args.size(); ++i)
    instruction_json(w, cf.global_args[i], &plan.global_arg_instructions[i]);
  w.end_array();
  w.key("target").number(plan.target);
  w.end_object();
  return w.take();
}

namespace {

// An instruction rebuilt as one line from its flags and arguments, so the
// expanded and unexpanded forms can be compared and shown.
std::string quote_if_needed(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\n\"'") == std::string::npos) return s;
  std::string out;
  JsonWriter::append_escaped(out, s);
  return out;
}

std::string one_line(const Instruction& ins, const Instruction* exp) {
  std::string out = ins.node.name();
  std::vector<std::string> flags = exp ? expanded_flags(*exp) : ins.node.flags;
  for (const std::string& f : flags)
    out += " " + f;
  std::vector<std::string> args;
  const Instruction& src = exp ? *exp : ins;
  bool quote = exp != nullptr;
  switch (src.kind) {
    case Kind::env:
    case Kind::label: {
      const auto& kvs = src.kind == Kind::env ? src.as<EnvData>().vars : src.as<LabelData>().labels;
      for (const KeyValue& kv : kvs)
        args.push_back(exp ? quote_if_needed(kv.key) + "=" + quote_if_needed(kv.value)
                           : kv.key + "=" + kv.value);
      break;
    }
    case Kind::arg:
      for (const ArgDecl& d : src.as<ArgData>().args)
        args.push_back(d.value ? d.name + "=" + (exp ? quote_if_needed(*d.value) : *d.value)
                               : d.name);
      break;
    case Kind::from:
      args = ins.node.args;
      if (exp) args[0] = exp->as<FromData>().base;
      break;
    case Kind::expose:
      args = src.as<ExposeData>().ports;
      break;
    case Kind::copy:
      args = exp ? copy_args(ins.node, exp->as<CopyData>().sources, exp->as<CopyData>().dest)
                 : ins.node.args;
      break;
    case Kind::add:
      args = exp ? copy_args(ins.node, exp->as<AddData>().sources, exp->as<AddData>().dest)
                 : ins.node.args;
      break;
    case Kind::user:
      args = {src.as<UserData>().user};
      break;
    case Kind::workdir:
      args = {src.as<WorkdirData>().path};
      break;
    case Kind::stopsignal:
      args = {src.as<StopSignalData>().signal};
      break;
    case Kind::volume:
      args = src.as<VolumeData>().paths;
      break;
    case Kind::run:
      args = ins.node.args;  // the command is the shell's business; only --mount expands
      quote = false;         // as written, so only a changed flag shows a difference
      break;
    default:
      return "";  // not expanded: nothing to compare
  }
  for (const std::string& a : args)
    out += " " + (quote ? quote_if_needed(a) : a);
  return out;
}

}  // namespace

std::string render_text(const Containerfile& cf, const BuildPlan& plan,
                        const ExpandedStages& expanded) {
  std::string out;
  out += "escape " + std::string(1, cf.directives.escape);
  if (cf.directives.syntax) out += ", syntax " + *cf.directives.syntax;
  if (cf.directives.check) out += ", check " + *cf.directives.check;
  out += "\n";
  auto line = [&](const Instruction& ins, const Instruction* exp) {
    std::string orig(text::trim_space(ins.node.original));
    std::string num = std::to_string(ins.node.line);
    out += std::string(num.size() < 5 ? 5 - num.size() : 0, ' ') + num + "  " + orig + "\n";
    for (const Heredoc& h : ins.node.heredocs) {
      size_t n = 0;
      for (char c : h.content)
        n += c == '\n';
      out += "       <<" + h.name + " (" + std::to_string(n) + (n == 1 ? " line" : " lines") +
             (h.expand ? "" : ", not expanded") + ")\n";
    }
    if (exp) {
      std::string before = one_line(ins, nullptr), after = one_line(ins, exp);
      if (!after.empty() && after != before) out += "       => " + after + "\n";
    }
  };
  if (!cf.global_args.empty()) {
    out += "global args:\n";
    for (size_t i = 0; i < cf.global_args.size(); ++i)
      line(cf.global_args[i], &plan.global_arg_instructions[i]);
  }
  for (const Stage& st : cf.stages) {
    const StagePlan& sp = plan.stages[st.index];
    // Appended, not `"literal" + std::to_string(...)`: GCC 12 at -O3 sees a
    // false overlap (-Wrestrict) in operator+(const char*, std::string&&).
    out.append("stage ").append(std::to_string(st.index));
    if (!st.name.empty()) out += " \"" + st.name + "\"";
    out += ": from " + sp.base;
    if (sp.base_stage >= 0) out.append(" (stage ").append(std::to_string(sp.base_stage)) += ")";
    if (!sp.platform.empty()) out += ", platform " + sp.platform;
    if (!sp.deps.empty()) {
      out += ", uses stages";
      for (int d : sp.deps)
        out.append(" ").append(std::to_string(d));
    }
    if (st.index == plan.target) out += " [target]";
    if (!sp.needed) out += " [not needed for the target]";
    out += "\n";
    const auto& exp = expanded[st.index];
    for (size_t i = 0; i < st.instructions.size(); ++i)
      line(st.instructions[i], exp ? &(*exp)[i] : nullptr);
  }
  return out;
}

}  // namespace kiln::parser
