# The two commands of README.md: `make run` (the whole product) and `make test` (the suite).
.PHONY: run test setup

run:
	./scripts/run

test:
	./scripts/test

setup:
	./scripts/setup
