#include "transport/rafthttp/url_picker.h"

#include <utility>

namespace raftkit::rafthttp {

UrlPicker::UrlPicker(std::vector<std::string> urls) : urls_(std::move(urls)) {}

std::string UrlPicker::Pick() const {
  std::lock_guard<std::mutex> g(mu_);
  return urls_.empty() ? std::string() : urls_[current_];
}

void UrlPicker::Unreachable(const std::string& url) {
  std::lock_guard<std::mutex> g(mu_);
  if (!urls_.empty() && urls_[current_] == url) current_ = (current_ + 1) % urls_.size();
}

void UrlPicker::Update(std::vector<std::string> urls) {
  std::lock_guard<std::mutex> g(mu_);
  urls_ = std::move(urls);
  current_ = 0;
}

std::vector<std::string> UrlPicker::urls() const {
  std::lock_guard<std::mutex> g(mu_);
  return urls_;
}

}  // namespace raftkit::rafthttp
