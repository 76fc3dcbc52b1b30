# The two commands of the README, and a few helpers.
.PHONY: up test loadtest schema-docs

# Sets up .venv and runs everything on the embedded defaults (http://127.0.0.1:8080/chat/demo).
up:
	./scripts/bootstrap.sh
	.venv/bin/botrt up

# Sets up .venv with the test extras and Chromium, then runs the whole suite.
test:
	./scripts/bootstrap.sh test
	./scripts/ensure-chromium.sh
	.venv/bin/python -m pytest

loadtest:
	./scripts/bootstrap.sh load
	.venv/bin/python -m loadtests.webchat --sessions 1000 --messages 20 --rate 500 --plot loadtests/out/webchat.png
