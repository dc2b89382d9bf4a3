# The two commands of the README. Both install what they need and start (then stop)
# every service they use on 127.0.0.1.
.PHONY: dev test

dev:  ## run the gateway locally: moto + cargo lambda watch, Ctrl-C stops all
	@bash scripts/dev.sh

test: ## the whole suite, as CI runs it
	@bash scripts/test.sh
