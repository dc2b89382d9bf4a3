# The two commands of the README. Both install what they need and start (then stop)
# every service they use on 127.0.0.1.
.PHONY: dev test bench fuzz soak token ctl

dev:  ## run the gateway locally: moto + OIDC provider + cargo lambda watch, Ctrl-C stops all
	@bash scripts/dev.sh

test: ## the whole suite, as CI runs it
	@bash scripts/test.sh

bench: ## every figure of BENCHMARKS.md into target/bench/ (BENCH_PARTS="micro peers load cold size")
	@bash scripts/bench.sh

soak: ## the release gateway under mixed load for SOAK_SECS (1800) at SOAK_RPS (1000) requests/s; report in target/soak/
	@bash scripts/soak.sh

fuzz: ## every fuzz target for FUZZ_SECS seconds each (default 60; FUZZ_TARGETS="verify sse" picks)
	@bash scripts/fuzz.sh

# USER is also the login name in the environment: only a USER= on the command line counts.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),alice)
KIND ?= access
token: ## make token [USER=alice] [KIND=access|id]: a Cognito token from a running `make dev`
	@.venv/bin/python scripts/cognito.py token --user "$(TOKEN_USER)" --kind "$(KIND)" --config .local/cognito.json

# ARGS is passed to gatewayctl as it is (word-split by the shell).
ctl: ## make ctl ARGS='policy list': gatewayctl against the DynamoDB table of a running `make dev`
	@test -f .local/dev.env || { echo 'error: .local/dev.env not found: run `make dev` first' >&2; exit 1; }
	@. ./.local/dev.env && target/debug/gatewayctl $(ARGS)
