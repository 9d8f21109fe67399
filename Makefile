# The two commands a newcomer needs (both install whatever is missing first):
#   make dev    run the workspace on http://127.0.0.1:3000 (embedded SQLite under ./data)
#   make test   run every test

.PHONY: dev test release bench
dev:
	bash .ci/dev.sh

test:
	bash .ci/test.sh

# An optimised build: the server binary and the site (target/site) for `xietong --site-root`.
release:
	bash .ci/setup.sh
	. .ci/env.sh && cargo leptos build --release --split

# The load harness with its baselines (see README "Performance"); ARGS go to xietong-bench.
bench:
	bash .ci/bench.sh $(ARGS)
