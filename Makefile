# `make demo` builds optlab in release mode and renders every figure in plots/;
# `make test` runs the whole test suite, after finding (or downloading) CIFAR-10.
# Both install missing Debian packages first.
SWIFT ?= swift
OPTLAB = .build/release/optlab

.PHONY: setup data build demo test bench
setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product optlab

demo: build
	@for e in experiments/*.yaml; do $(OPTLAB) run "$$e" || exit 1; done

data: setup
	@SWIFT=$(SWIFT) scripts/test-data.sh

test: data
	$(SWIFT) test --disable-swift-testing

bench: build
	$(OPTLAB) bench
