# Thin wrappers over scripts/ (the README's commands). Examples:
#   make run
#   make test ARGS='-run TestOrder -v'
#   make bench BENCH='Scan Order'
export PATH := $(PATH):/usr/local/go/bin

ARGS ?=
BENCH ?=

.PHONY: run test bench build

run:
	scripts/run.sh

test:
	scripts/test.sh $(ARGS)

bench:
	scripts/bench.sh $(BENCH)

build:
	go build -o bin/fupin ./cmd/fupin
