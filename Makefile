# `make demo` builds optlab in release mode and renders every figure in plots/;
# `make test` runs the whole test suite, after finding (or downloading) CIFAR-10; `make fuzz` runs
# every fuzz target for FUZZ_SECONDS each (default 60); `make sanitize` runs the test suite under
# AddressSanitizer and ThreadSanitizer. Each installs missing Debian packages first.
SWIFT ?= swift
OPTLAB = .build/release/optlab

.PHONY: setup data build demo test bench fuzz sanitize
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

FUZZ_SECONDS ?= 60
fuzz: setup
	scripts/fuzz.sh $(FUZZ_SECONDS)

sanitize: data
	scripts/sanitize.sh
