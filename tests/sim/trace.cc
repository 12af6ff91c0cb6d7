#include "sim/trace.h"

#include <fmt/format.h>

namespace raftkit::sim {

std::string Trace::Line(uint64_t time_us, const std::string& text) {
  return fmt::format("[{:>11.3f} ms] {}", static_cast<double>(time_us) / 1000.0, text);
}

void Trace::Add(uint64_t time_us, std::function<std::string()> format) {
  if (sink_) {
    std::string text = format();
    sink_(Line(time_us, text));
    // Streamed events are also kept (formatted) so a violation can still show its tail.
    format = [text = std::move(text)] { return text; };
  }
  events_.push_back(Pending{time_us, std::move(format)});
  if (events_.size() > keep_) events_.pop_front();
}

std::string Trace::Tail() const {
  std::string out;
  for (const Pending& p : events_) {
    out += Line(p.time_us, p.format());
    out += '\n';
  }
  return out;
}

}  // namespace raftkit::sim
