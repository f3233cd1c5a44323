# Attractor: the recipes people and CI share. `just` lists them.
set quiet

py := env_var_or_default("PYTHON", "python")

# list the recipes
default:
    just --list

# install the package with its dev tools (and, where apt is available, Graphviz for `attractor render`
# and the dashboard graph, Debian's Chromium for the browser tests)
setup:
    {{py}} -m pip install -q -e '.[dev]'
    -command -v dot >/dev/null || (command -v apt-get >/dev/null && (apt-get update -qq && apt-get install -y -qq graphviz) >/dev/null 2>&1) || true
    -(command -v chromium >/dev/null && command -v chromedriver >/dev/null) || (command -v apt-get >/dev/null && (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1) || true

# run the demo pipeline end to end (the README's first line), then show its stages from the log
demo:
    {{py}} -m attractor run examples/smoke.dot --auto-approve --logs-root runs
    {{py}} -m attractor log show "runs/$(ls -t runs | head -n 1)" --type "stage.*"

# the whole fast test suite
test *ARGS:
    {{py}} -m pytest -q {{ARGS}}

# slow stress and property tests (crash loops, 10k-example fuzzing)
test-slow *ARGS:
    {{py}} -m pytest -q -m slow --hypothesis-profile=ci {{ARGS}}

# ruff lint + format check + import-linter layer contracts
lint:
    {{py}} -m ruff check src tests bench
    {{py}} -m ruff format --check src tests bench
    lint-imports

# format the code
fmt:
    {{py}} -m ruff format src tests bench
    {{py}} -m ruff check --fix src tests bench

# mypy --strict on src/
typecheck:
    {{py}} -m mypy

# the single gate: lint, types, tests
check: lint typecheck test

# benchmarks: print figures and ratios measured in one run
bench:
    {{py}} -m pip install -q -e '.[bench]'
    for f in bench/bench_*.py; do echo "== $f"; {{py}} "$f"; done

# regenerate golden logs under fixtures/ (review the diff: a format change needs an upcaster instead)
golden-update:
    {{py}} -m attractor.testing.golden update
    {{py}} -m tests.pipeline.golden_update

# build the docs index (docs/ is plain Markdown)
docs:
    ls docs docs/adr
