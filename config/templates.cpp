#include "config/templates.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <stdexcept>

namespace orchflow::embedded {
extern const char* const agent_templates_json;
extern const char* const prompts_json;
} // namespace orchflow::embedded

namespace orchflow {

const std::vector<agent_template>& agent_templates() {
  static const auto result = [] {
    std::vector<agent_template> xs;
    auto j = nlohmann::json::parse(embedded::agent_templates_json);
    for (auto& t : j.at("templates")) {
      agent_template x;
      x.name = t.at("name").get<std::string>();
      x.description = t.at("description").get<std::string>();
      x.system_prompt = t.at("system_prompt").get<std::string>();
      x.keywords = t.at("keywords").get<std::vector<std::string>>();
      xs.push_back(std::move(x));
    }
    return xs;
  }();
  return result;
}

const agent_template* find_template(std::string_view name) {
  for (auto& t : agent_templates())
    if (t.name == name)
      return &t;
  return nullptr;
}

const prompt_template& prompt_for(std::string_view step) {
  static const auto table = [] {
    std::map<std::string, prompt_template, std::less<>> xs;
    auto j = nlohmann::json::parse(embedded::prompts_json);
    for (auto& [key, val] : j.items())
      xs[key] = prompt_template{val.at("system").get<std::string>(),
                                val.at("user").get<std::string>()};
    return xs;
  }();
  auto i = table.find(step);
  if (i == table.end())
    throw std::logic_error("no prompt template for step " + std::string{step});
  return i->second;
}

std::string fill(std::string_view text,
                 const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string out;
  out.reserve(text.size() * 2);
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      auto close = text.find('}', i);
      if (close != std::string_view::npos) {
        auto name = text.substr(i + 1, close - i - 1);
        bool replaced = false;
        for (auto& [k, v] : vars)
          if (k == name) {
            out += v;
            replaced = true;
            break;
          }
        if (replaced) {
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

} // namespace orchflow
