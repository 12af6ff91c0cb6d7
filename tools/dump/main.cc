// raftkit-dump: inspect (and, with `repair`, fix) raftkit's on-disk files. See docs/tools.md.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "dump.h"

int main(int argc, char** argv) {
  CLI::App app{"raftkit-dump: print and check raftkit WAL directories and snapshot files"};
  app.require_subcommand(1);
  bool json = false;
  std::string path;

  auto* wal = app.add_subcommand("wal", "print every record of a WAL directory");
  wal->add_option("dir", path, "the WAL directory (e.g. <data-dir>/wal)")->required();
  wal->add_flag("--json", json, "print JSON instead of text");

  auto* snap = app.add_subcommand("snap", "print and verify one snapshot file");
  snap->add_option("file", path, "a .snap file")->required();
  snap->add_flag("--json", json, "print JSON instead of text");

  auto* data = app.add_subcommand("data", "summarize a data directory (wal/ and snap/)");
  data->add_option("dir", path, "the data directory")->required();
  data->add_flag("--json", json, "print JSON instead of text");

  bool accept_loss = false;
  auto* repair = app.add_subcommand(
      "repair", "truncate WAL damage confined to the final (unacknowledged) batch");
  repair->add_option("dir", path, "the WAL directory")->required();
  repair->add_flag("--accept-loss", accept_loss,
                   "also cut damage before the final batch, losing acknowledged records");

  CLI11_PARSE(app, argc, argv);
  raftkit::storage::Env* env = raftkit::storage::PosixEnv();
  if (*wal) return raftkit::tools::DumpWal(env, path, json, std::cout);
  if (*snap) return raftkit::tools::DumpSnapshot(env, path, json, std::cout);
  if (*data) return raftkit::tools::DumpDataDir(env, path, json, std::cout);
  return raftkit::tools::RepairWal(env, path, accept_loss, std::cout);
}
