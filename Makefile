# The README's commands. Everything runs inside the project's virtual environment (.venv), made by `make install`.
PY := .venv/bin/python
TOY := data/toy

.PHONY: install demo toy-data test test-fast lint
install:
	bash tools/install.sh

toy-data:
	$(PY) tools/make_toy_data.py --out $(TOY)

demo: toy-data
	$(PY) tools/train.py configs/toy/fcn_r18-tiny_1k_toy-scribble.py --work-dir work_dirs/demo_scribble_fcn

# pytest exits 5 when it collects nothing: say so, and keep the failure.
PYTEST = @$(PY) -m pytest -q $(1); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: the suite did not run" >&2; fi; exit $$rc

# Lint, then every test, the end-to-end training runs included.
test: lint
	$(call PYTEST,)

# Skips the tests marked slow (model training, whole pipelines, fresh interpreters): about a tenth of `make test`.
test-fast:
	$(call PYTEST,-m "not slow")

# ruff with the rules in pyproject.toml (about 0.2 s).
lint:
	$(PY) -m ruff check .
