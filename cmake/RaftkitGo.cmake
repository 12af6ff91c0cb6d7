# Go programs built against etcd 3.4's sources from Debian's golang-etcd-server-dev, in GOPATH mode
# (no modules, no network): the rafthttp interop peer and the Go transport benchmark. The build
# cache lives in the build directory; the system tree (/usr/share/gocode) is only read.
include_guard(GLOBAL)

find_program(RAFTKIT_GO go)
set(RAFTKIT_ETCD_GOPATH /usr/share/gocode CACHE PATH "GOPATH holding etcd 3.4's Go sources")
if(NOT RAFTKIT_GO)
  message(FATAL_ERROR "raftkit's Go interop programs need the Go toolchain (Debian: golang-go; "
                      "scripts/deps.sh installs it)")
endif()
if(NOT EXISTS ${RAFTKIT_ETCD_GOPATH}/src/go.etcd.io/etcd/etcdserver/api/rafthttp/transport.go)
  message(FATAL_ERROR "raftkit's Go interop programs need etcd 3.4's Go sources under "
                      "${RAFTKIT_ETCD_GOPATH}/src/go.etcd.io/etcd/etcdserver/api/rafthttp "
                      "(Debian: golang-etcd-server-dev; scripts/deps.sh installs it)")
endif()

# Builds `what` (a file or an import path) with `go build` into ${CMAKE_BINARY_DIR}/go/<output-name>,
# rebuilt when any of `inputs` changes; <target> is a custom target built by default, with the output
# path as its property RAFTKIT_GO_OUTPUT.
function(_raftkit_go_build target output_name what inputs)
  set(out ${CMAKE_BINARY_DIR}/go/${output_name})
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/go
    COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${RAFTKIT_ETCD_GOPATH}
            GOCACHE=${CMAKE_BINARY_DIR}/gocache GOFLAGS=
            ${RAFTKIT_GO} build -o ${out} ${what}
    DEPENDS ${inputs}
    COMMENT "Building ${output_name} (Go, etcd 3.4 from ${RAFTKIT_ETCD_GOPATH})"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${out})
  set_target_properties(${target} PROPERTIES RAFTKIT_GO_OUTPUT ${out})
endfunction()

# raftkit_go_program(<target> <output-name> <source.go>)
# Builds the single-file Go program <source.go> (relative to the calling directory, or absolute).
function(raftkit_go_program target output_name source)
  get_filename_component(src ${source} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  _raftkit_go_build(${target} ${output_name} ${src} "${src}")
endfunction()

# raftkit_go_package(<target> <output-name> <import-path>)
# Builds a whole Go package of the GOPATH tree, e.g. etcd's go.etcd.io/etcd/contrib/raftexample
# (a live peer for the mixed-cluster tests).
function(raftkit_go_package target output_name import_path)
  file(GLOB pkg_sources ${RAFTKIT_ETCD_GOPATH}/src/${import_path}/*.go)
  _raftkit_go_build(${target} ${output_name} ${import_path} "${pkg_sources}")
endfunction()
