# The README's two commands: `make demo` and `make test`.
.PHONY: demo test build deps bench bench-xray bench-query clean

deps:
	@tools/install_deps.sh

build: deps
	@cmake --preset release >/dev/null
	@ninja -C build

# Builds Release and starts waggle on its embedded store with a demo workload.
demo: build
	@build/src/server/waggle demo --data-dir ./waggle-data

# Installs what the tests need, builds, and runs every test (unit, end-to-end, ASan+UBSan, fuzz).
test:
	@tools/check.sh

# The ingest benchmark (issue 2): spans/s, CPU, RSS, bytes/span; then the demo workload's bytes/span.
bench: build
	@bash bench/run_ingest.sh
	@bash bench/run_demo_bytes.sh

# The X-Ray daemon benchmark (issue 4): UDP segments/s stored on loopback without loss.
bench-xray: build
	@bash bench/run_xray.sh

# The side-by-side query benchmark (issue 3): waggle vs chdb vs clickhouse-server 18.16 on 10M
# generated spans; installs its peers, prints the table and writes bench/RESULTS.md.
# Smaller run: bash bench/run_query.sh --spans 200000
bench-query: deps
	@bash bench/run_query.sh --write-results

clean:
	rm -rf build build-asan build-fuzz
