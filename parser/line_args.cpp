// The per-instruction argument splitting of BuildKit's line parser.
#include "parser/line_args.hpp"

#include "parser/shell_expander.hpp"
#include "parser/text.hpp"

namespace kiln::parser::detail {

std::string_view split_flags(std::string_view line, std::vector<std::string>& flags) {
  // Scans byte by byte like extractBuilderFlags: a word starting with "--"
  // is a flag; quotes group, backslash escapes; a bare "--" ends the flags.
  enum { in_spaces, in_word, in_quote } phase = in_spaces;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= line.size(); ++pos) {
    const bool end = pos == line.size();
    char ch = end ? 0 : line[pos];
    if (phase == in_spaces) {
      if (end) break;
      if (text::is_space_byte(static_cast<unsigned char>(ch))) continue;
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') return line.substr(pos);
      phase = in_word;
    }
    if (end) {
      if (word != "--" && (blank_ok || !word.empty())) flags.push_back(word);
      break;
    }
    if (phase == in_word) {
      if (text::is_space_byte(static_cast<unsigned char>(ch))) {
        phase = in_spaces;
        if (word == "--") return line.substr(pos);
        if (blank_ok || !word.empty()) flags.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = in_quote;
        continue;
      }
      if (ch == '\\') {
        if (pos + 1 == line.size()) continue;
        ch = line[++pos];
      }
      word += ch;
      continue;
    }
    // in_quote
    if (ch == quote) {
      phase = in_word;
      continue;
    }
    if (ch == '\\') {
      if (pos + 1 == line.size()) {
        phase = in_word;
        continue;
      }
      ch = line[++pos];
    }
    word += ch;
  }
  return {};
}

std::vector<std::string> parse_words(std::string_view rest, char escape) {
  enum { in_spaces, in_word, in_quote } phase = in_spaces;
  std::vector<std::string> words;
  std::string word;
  char32_t quote = 0;
  bool blank_ok = false;
  const char32_t esc = static_cast<unsigned char>(escape);
  char32_t ch = 0;
  size_t width = 0;
  for (size_t pos = 0; pos <= rest.size(); pos += width) {
    const bool end = pos == rest.size();
    if (!end) width = text::decode_utf8(rest, pos, ch);
    if (phase == in_spaces) {
      if (end) break;
      if (text::is_space(ch)) continue;
      phase = in_word;
    }
    if (end) {
      if (blank_ok || !word.empty()) words.push_back(word);
      break;
    }
    if (phase == in_word) {
      if (text::is_space(ch)) {
        phase = in_spaces;
        if (blank_ok || !word.empty()) words.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = in_quote;
      }
      if (ch == esc) {
        if (pos + width == rest.size()) continue;  // a trailing escape is dropped
        // Outside quotes the escape and the next character are both kept.
        word.append(rest.substr(pos, width));
        pos += width;
        width = text::decode_utf8(rest, pos, ch);
      }
      word.append(rest.substr(pos, width));
      continue;
    }
    // in_quote
    if (ch == quote) phase = in_word;
    if (ch == esc && quote != '\'') {
      if (pos + width == rest.size()) {
        phase = in_word;
        continue;
      }
      word.append(rest.substr(pos, width));
      pos += width;
      width = text::decode_utf8(rest, pos, ch);
    }
    word.append(rest.substr(pos, width));
  }
  return words;
}

namespace {

// ENV and LABEL: `key=value ...`, or the legacy `key value`.
Status split_name_values(Node& node, std::string_view rest, char escape, std::string_view what) {
  std::vector<std::string> words = parse_words(rest, escape);
  if (words.empty()) return {};
  if (words[0].find('=') == std::string::npos) {
    std::vector<std::string> parts = text::split_blank(rest, 2);
    if (parts.size() < 2) return fail(what, " must have two arguments");
    node.pairs.push_back({parts[0], parts[1], true});
    return {};
  }
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos)
      return fail("Syntax error - can't find = in ", text::go_quote(w),
                  ". Must be of the form: name=value");
    node.pairs.push_back({w.substr(0, eq), w.substr(eq + 1), false});
  }
  return {};
}

// RUN, CMD, ENTRYPOINT, SHELL (and the command of HEALTHCHECK).
Status split_maybe_json(Node& node, std::string_view rest) {
  if (rest.empty()) return {};
  std::vector<std::string> items;
  switch (parse_json_array(rest, items)) {
    case JsonArray::ok:
      node.args.insert(node.args.end(), items.begin(), items.end());
      node.json = true;
      return {};
    case JsonArray::not_strings:
      return fail("when using JSON array syntax, arrays must be comprised of strings only");
    case JsonArray::invalid:
      break;
  }
  node.args.emplace_back(rest);
  return {};
}

void split_blank_words(Node& node, std::string_view rest) {
  if (rest.empty()) return;
  for (std::string& w : text::split_blank(rest))
    node.args.push_back(std::move(w));
}

}  // namespace

Status split_arguments(Node& node, std::string_view rest, char escape, int depth) {
  const std::string kw = text::to_lower(node.keyword);
  if (kw == "run" || kw == "cmd" || kw == "entrypoint" || kw == "shell")
    return split_maybe_json(node, rest);
  if (kw == "add" || kw == "copy" || kw == "volume") {
    std::vector<std::string> items;
    switch (parse_json_array(rest, items)) {
      case JsonArray::ok:
        node.args = std::move(items);
        node.json = true;
        return {};
      case JsonArray::not_strings:
        return fail("when using JSON array syntax, arrays must be comprised of strings only");
      case JsonArray::invalid:
        split_blank_words(node, rest);
        return {};
    }
  }
  if (kw == "from" || kw == "expose") {
    split_blank_words(node, rest);
    return {};
  }
  if (kw == "maintainer" || kw == "stopsignal" || kw == "user" || kw == "workdir") {
    if (!rest.empty()) node.args.emplace_back(rest);
    return {};
  }
  if (kw == "env") return split_name_values(node, rest, escape, "ENV");
  if (kw == "label") return split_name_values(node, rest, escape, "LABEL");
  if (kw == "arg") {
    node.args = parse_words(rest, escape);
    return {};
  }
  if (kw == "healthcheck") {
    // The first word is the type (CMD or NONE); the rest is a command.
    size_t sep = 0;
    while (sep < rest.size() && !text::is_space_byte(static_cast<unsigned char>(rest[sep])))
      ++sep;
    if (sep == 0) return {};
    size_t next = sep;
    while (next < rest.size() && text::is_space_byte(static_cast<unsigned char>(rest[next])))
      ++next;
    node.args.emplace_back(rest.substr(0, sep));
    return split_maybe_json(node, rest.substr(next));
  }
  if (kw == "onbuild") {
    if (rest.empty() || depth > 1) return {};
    TRY_ASSIGN(Node child, node_from_line(rest, escape, depth + 1));
    node.trigger.push_back(std::move(child));
    return {};
  }
  return {};  // unknown instructions are reported by to_instruction()
}

Result<Node> node_from_line(std::string_view line, char escape, int depth) {
  std::string_view trimmed = text::trim_space(line);
  size_t i = 0;
  while (i < trimmed.size() && !text::is_blank(trimmed[i]))
    ++i;
  Node node;
  node.keyword = std::string(trimmed.substr(0, i));
  node.original = std::string(line);
  std::string_view args;
  if (i < trimmed.size()) {
    size_t j = i;
    while (j < trimmed.size() && text::is_blank(trimmed[j]))
      ++j;
    args = text::trim_space(split_flags(trimmed.substr(j), node.flags));
  }
  if (Status st = split_arguments(node, args, escape, depth); !st)
    return tl::unexpected(st.error());
  return node;
}

Result<std::optional<Heredoc>> parse_heredoc_word(std::string_view word) {
  // ^(\d*)<<(-?)([^<]*)$
  size_t i = 0;
  while (i < word.size() && word[i] >= '0' && word[i] <= '9')
    ++i;
  std::string_view digits = word.substr(0, i);
  if (word.substr(i, 2) != "<<") return std::nullopt;
  i += 2;
  bool chomp = i < word.size() && word[i] == '-';
  if (chomp) ++i;
  std::string_view rest = word.substr(i);
  if (rest.find('<') != std::string_view::npos) return std::nullopt;
  if (rest.empty()) return std::nullopt;

  // Lexed with and without quotes: if the quote counts differ, part of the
  // delimiter was quoted and the body is not expanded.
  ShellExpander lex;
  lex.skip_unset = true;
  VarMap none;
  TRY_ASSIGN(std::vector<std::string> words, lex.expand_words(rest, none));
  if (words.size() != 1) return std::nullopt;
  lex.raw_quotes = true;
  TRY_ASSIGN(std::vector<std::string> raw, lex.expand_words(rest, none));
  if (raw.size() != words.size())
    return fail("internal lexing of heredoc produced inconsistent results: ", rest);
  auto quotes = [](const std::string& s) {
    size_t n = 0;
    for (char c : s)
      n += c == '\'' || c == '"';
    return n;
  };
  Heredoc h;
  h.name = words[0];
  h.expand = quotes(words[0]) == quotes(raw[0]);
  h.chomp = chomp;
  unsigned fd = 0;
  for (char c : digits) {
    fd = fd * 10 + static_cast<unsigned>(c - '0');
    if (fd > 1000000) break;  // strconv.ParseUint would overflow long before it matters
  }
  h.fd = fd;
  return std::optional<Heredoc>(std::move(h));
}

Result<std::vector<Heredoc>> heredocs_in_line(std::string_view line) {
  ShellExpander lex;
  lex.raw_quotes = true;
  lex.raw_escapes = true;
  lex.skip_unset = true;
  VarMap none;
  auto words = lex.expand_words(line, none);
  std::vector<Heredoc> docs;
  if (!words) return docs;  // BuildKit ignores a lexing error here: no heredocs
  for (const std::string& w : *words) {
    TRY_ASSIGN(std::optional<Heredoc> h, parse_heredoc_word(w));
    if (h) docs.push_back(std::move(*h));
  }
  return docs;
}

bool can_contain_heredoc(const Node& node) {
  const Node* n = &node;
  if (text::iequals(n->keyword, "onbuild") && !n->trigger.empty()) n = &n->trigger[0];
  if (n->json) return false;
  return text::iequals(n->keyword, "run") || text::iequals(n->keyword, "copy") ||
         text::iequals(n->keyword, "add");
}

}  // namespace kiln::parser::detail
