#include "parser/containerfile.hpp"

#include "parser/text.hpp"

namespace kiln::parser {

std::string Stage::display_name() const {
  return name.empty() ? "stage-" + std::to_string(index) : name;
}

int Containerfile::find_stage(std::string_view name) const {
  std::string lower = text::to_lower(name);
  for (auto it = stages.rbegin(); it != stages.rend(); ++it)
    if (!it->name.empty() && it->name == lower) return it->index;
  return -1;
}

Result<Containerfile> parse_containerfile(std::string_view text, std::string_view filename) {
  TRY_ASSIGN(Ast ast, parse_ast(text, filename));
  Containerfile cf;
  cf.filename = ast.filename;
  cf.directives = std::move(ast.directives);
  cf.warnings = std::move(ast.warnings);
  for (const Node& node : ast.nodes) {
    TRY_ASSIGN(Instruction ins, to_instruction(node, filename));
    if (ins.kind == Kind::onbuild && !ins.as<OnbuildData>().trigger) {
      // BuildKit stores the trigger unchecked; it fails in every child build.
      Node child = node.trigger[0];
      child.line = node.line;
      auto bad = to_instruction(child, filename);
      if (!bad) {
        std::string msg = bad.error().what();
        std::string at = location_prefix(filename, node.line);
        if (msg.compare(0, at.size(), at) == 0) msg.erase(0, at.size());
        cf.warnings.push_back(
            {node.line, "ONBUILD trigger will fail in images built from this one: " + msg});
      }
    }
    if (ins.kind == Kind::from) {
      Stage st;
      st.index = static_cast<int>(cf.stages.size());
      st.name = ins.as<FromData>().stage_name;
      // BuildKit accepts a repeated name (the later stage wins) and only lints it.
      if (!st.name.empty() && cf.find_stage(st.name) >= 0)
        cf.warnings.push_back({node.line, "duplicate stage name " + text::go_quote(st.name) +
                                              ": later references use this stage"});
      if (st.name == "scratch" || st.name == "context")
        cf.warnings.push_back({node.line, "stage name " + text::go_quote(st.name) +
                                              " is reserved and should not be used"});
      st.instructions.push_back(std::move(ins));
      cf.stages.push_back(std::move(st));
    } else if (cf.stages.empty()) {
      if (ins.kind != Kind::arg)
        return fail(location_prefix(filename, node.line), node.name(),
                    ": no build stage in current context (an instruction before the first FROM)");
      cf.global_args.push_back(std::move(ins));
    } else {
      cf.stages.back().instructions.push_back(std::move(ins));
    }
  }
  // Only ARGs reach here (anything else fails above); name the last one, so
  // the message points where the missing FROM should follow.
  if (cf.stages.empty()) {
    const Node& last = ast.nodes.back();
    return fail(location_prefix(filename, last.line), last.name(),
                ": no FROM instruction after the global ARGs: the file has no build stage");
  }
  return cf;
}

}  // namespace kiln::parser
